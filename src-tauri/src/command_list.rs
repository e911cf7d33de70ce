// The one list of the app's commands, as a macro that hands the names to
// another macro. `build.rs` includes this file to declare them in the app
// manifest (each gets `allow-<name>` / `deny-<name>` permissions); `lib.rs`
// feeds the same names to `tauri::generate_handler!` and exports them as
// `COMMAND_NAMES`, which the drift tests compare with the UI's calls and the
// capability file.
macro_rules! with_app_commands {
    ($callback:ident) => {
        $callback! {
            // session
            app_status,
            create_vault,
            unlock,
            lock,
            panic_lock,
            touch,
            set_idle_lock,
            session_info,
            change_passphrase,
            // under coercion: quick delete, duress passphrase, unlock limit
            destroy_preview,
            destroy_vault,
            coercion_settings,
            set_duress,
            clear_duress,
            set_unlock_limit,
            // records
            list_records,
            search,
            get_record,
            save_record,
            record_history,
            record_provenance,
            linked_records,
            // attachments
            attach_file,
            attach_bytes,
            list_attachments,
            check_vault,
            // recording into an interview
            recording_inputs,
            recording_start,
            recording_status,
            recording_pause,
            recording_resume,
            recording_stop,
            move_into_vault,
            // bundles, trust, devices, receipts
            outbox_status,
            export_bundle,
            import_bundle,
            list_devices,
            import_trust,
            trust_info,
            export_trust,
            device_identity,
            save_device_identity,
            enroll_device,
            revoke_device,
            export_receipts,
            import_receipts,
            bundles_out,
            // sync with headquarters, travel mode, the coordinator's pull
            policy_get,
            policy_set,
            outbox_list,
            hq_enroll,
            hq_invite,
            sync_start,
            sync_cancel,
            sync_status,
            travel_status,
            travel_prepare,
            hq_pull,
            // the register (coordinator vaults)
            register_page,
            register_duplicates,
            register_merges,
            register_merge,
            register_unmerge,
            register_mark_distinct,
            register_set_status,
            register_export,
            // evidence packs (coordinator vaults)
            evidence_export,
            // the panic shortcut (panic.rs)
            panic_info,
            set_panic_action,
            panic_now,
        }
    };
}
