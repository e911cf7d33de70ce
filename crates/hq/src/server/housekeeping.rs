//! Periodic clean-up: retention, stale uploads, old nonces.

use super::*;

pub(crate) fn spawn_housekeeping(app: Arc<App>) {
    tokio::spawn(async move {
        let every = Duration::from_secs(app.settings.housekeeping_secs.max(1));
        loop {
            tokio::time::sleep(every).await;
            let a = Arc::clone(&app);
            let _ = tokio::task::spawn_blocking(move || housekeeping(&a)).await;
        }
    });
}

/// Deletes acknowledged bundles past retention, stale uploads, old nonces
/// and forgotten staging files.
///
/// Several instances sharing one PostgreSQL take turns: only the holder of
/// the housekeeping lease (a row in the database, renewed each run, free
/// again after three intervals without renewal) runs retention, so two
/// instances never work through the same list at once. Every step is
/// idempotent (a blob already gone, a row already forgotten) should a lease
/// holder stall past its lease.
pub(crate) fn housekeeping(app: &App) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    clean_staging(app, now);
    let lease =
        i64::try_from(app.settings.housekeeping_secs.max(1).saturating_mul(3)).unwrap_or(i64::MAX);
    if !matches!(app.store.housekeeping_lease(&app.instance, lease), Ok(true)) {
        return;
    }
    let retention = i64::try_from(app.settings.retention_secs).unwrap_or(i64::MAX);
    if let Ok(ids) = app
        .store
        .bundles_acked_before(now.saturating_sub(retention))
    {
        for id in ids {
            // The blob first: a row without its blob would be listed to the
            // coordinators; a blob without its row is only an orphan.
            if app.blobs.delete_bundle(&id).is_err() {
                continue;
            }
            let _ = app.store.bundle_forget(&id);
        }
    }
    let ttl = i64::try_from(app.settings.upload_ttl_secs).unwrap_or(i64::MAX);
    if let Ok(ids) = app.store.uploads_older(now.saturating_sub(ttl)) {
        for id in ids {
            if app.blobs.delete_upload(&id).is_ok() {
                let _ = app.store.upload_delete(&id);
            }
        }
    }
    let _ = app.store.prune_nonces(now - 2 * MAX_SKEW_SECS);
}

/// Staging files (bodies being received, bundles being assembled) left by a
/// crash: this instance's own directory; anything older than a day.
fn clean_staging(app: &App, now: i64) {
    let Ok(rd) = fs::read_dir(app.dir.tmp()) else {
        return;
    };
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .is_some_and(|d| (d.as_secs() as i64) < now - 86_400);
        if old {
            let _ = fs::remove_file(e.path());
        }
    }
}
