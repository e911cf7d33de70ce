// The command names of the app, as registered in src-tauri/src/command_list.rs.
// A Rust test (src-tauri/src/tests.rs) fails when the two lists differ.
export const COMMANDS = [
  'app_status',
  'create_vault',
  'unlock',
  'lock',
  'panic_lock',
  'touch',
  'set_idle_lock',
  'session_info',
  'change_passphrase',
  'list_records',
  'search',
  'get_record',
  'save_record',
  'record_history',
  'linked_records',
  'attach_file',
  'attach_bytes',
  'list_attachments',
  'check_vault',
  'outbox_status',
  'export_bundle',
  'import_bundle',
  'list_devices',
] as const;

export type Command = (typeof COMMANDS)[number];
