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

/// Deletes acknowledged bundles past retention, stale uploads and old nonces.
pub(crate) fn housekeeping(app: &App) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let retention = i64::try_from(app.settings.retention_secs).unwrap_or(i64::MAX);
    if let Ok(ids) = app
        .store
        .bundles_acked_before(now.saturating_sub(retention))
    {
        for id in ids {
            let path = app.blob_path(&id);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => continue,
            }
            let _ = app.store.bundle_forget(&id);
        }
    }
    let ttl = i64::try_from(app.settings.upload_ttl_secs).unwrap_or(i64::MAX);
    if let Ok(ids) = app.store.uploads_older(now.saturating_sub(ttl)) {
        for id in ids {
            let _ = fs::remove_dir_all(app.upload_dir(&id));
            let _ = app.store.upload_delete(&id);
        }
    }
    let _ = app.store.prune_nonces(now - 2 * MAX_SKEW_SECS);
}
