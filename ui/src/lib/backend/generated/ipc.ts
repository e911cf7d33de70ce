// GENERATED from the Rust types by ts-rs (crates/api/src/typescript.rs): do not edit.
// Regenerate: YADDASH_REGENERATE_TS=1 cargo test --release -p yaddash-api --lib ipc_types_are_generated

/**
 * Stable, snake_case error codes: the app's catalogue has a sentence
 * for each, in every language (a Vitest test checks it against the
 * generated list). Adding one is an interface change.
 */
export type Code = "wrong_passphrase" | "vault_erased" | "bad_secret" | "locked" | "not_found" | "invalid_input" | "invalid_record" | "wrong_reference" | "kind_change" | "path_not_absolute" | "file_not_found" | "file_unreadable" | "file_too_large" | "reason_required" | "vault_exists" | "not_a_vault" | "disk_full" | "corrupt" | "attachment_missing" | "attachment_corrupt" | "busy" | "cancelled" | "not_available" | "request_refused" | "internal" | "wrong_role" | "no_trust" | "trust_file_invalid" | "device_file_invalid" | "receipt_file_invalid" | "policy_invalid" | "device_keys_unreadable" | "device_not_enrolled" | "bundle_write_failed" | "nothing_to_export" | "not_a_bundle" | "bundle_version_unsupported" | "bundle_truncated" | "bundle_altered" | "bundle_forged" | "bundle_not_for_us" | "bundle_wrong_headquarters" | "unknown_sender" | "sender_key_invalid" | "bundle_replayed" | "bundle_sequence_reused" | "bundle_chain_broken" | "device_revoked" | "bundle_not_from_sender" | "bundle_bad_time" | "bundle_too_large" | "bundle_bad_layout" | "receipt_refused" | "network_off" | "sync_disabled" | "proxy_required" | "manual_mode" | "outside_window" | "proxy_down" | "bad_proxy" | "network" | "server_refused" | "server_protocol" | "bad_url" | "no_server_url" | "not_enrolled" | "no_server_key" | "server_key_invalid" | "server_key_mismatch" | "server_other_headquarters" | "bad_enroll_code" | "unknown_outbox_file" | "not_in_outbox" | "export_failed" | "evidence_refused" | "evidence_damaged" | "evidence_write_failed" | "unlock_limit_range" | "quick_delete_failed" | "no_microphone" | "microphone_unknown" | "microphone_failed" | "recording_failed" | "recording_running" | "no_recording" | "not_an_interview" | "recording_low_space" | "not_a_regular_file" | "file_changed" | "original_not_removed";

/**
 * An error as the front end sees it:
 * `{"code": "bundle_sequence_reused", "params": {"seq": 7}, "detail": "…"}`.
 */
export type ApiError = { 
/**
 * What kind of failure, for the UI to react to and translate.
 */
code: Code, 
/**
 * The catalogue sentence's placeholders.
 */
params: Record<string, string | number>, 
/**
 * The library's English text (shown behind "Details"). Never
 * testimony, names or key material.
 */
detail: string, };

/**
 * A calendar date known to the year, the month or the day: `2024`,
 * `2024-11` or `2024-11-20` (ISO 8601 reduced precision).
 */
export type PartialDate = string;

/**
 * The kind of a record.
 */
export type RecordKind = "person" | "case" | "interview";

/**
 * Who may see a record outside the organisation.
 */
export type Confidentiality = "public" | "partner" | "internal";

/**
 * How far the source of a record is to be trusted.
 */
export type Reliability = "high" | "medium" | "low" | "unknown";

/**
 * The consent the speaker gave for an interview.
 */
export type Consent = "publish" | "anonymous" | "internal";

/**
 * A role a person plays in the documentation.
 */
export type PersonRole = "detainee" | "relative" | "witness" | "lawyer" | "official";

/**
 * How a release came about.
 */
export type ReleaseKind = "release" | "pardon" | "amnesty" | "acquittal" | "sentence_served";

/**
 * A person, with every spelling of their name kept exactly as given.
 */
export type Person = { 
/**
 * Names in every script the person is known by, as the sources wrote them.
 */
names: Array<string>, 
/**
 * Year of birth, if known.
 */
birth_year?: number | null, 
/**
 * Roles in the documentation.
 */
roles: Array<PersonRole>, 
/**
 * Free notes.
 */
notes?: string | null, 
/**
 * Confidentiality of this record.
 */
confidentiality: Confidentiality, 
/**
 * Reliability of the source.
 */
reliability: Reliability, };

/**
 * The kinds of events, each with its own fields.
 */
export type EventDetail = { "type": "arrest", 
/**
 * Where.
 */
place?: string | null, 
/**
 * Which authority (e.g. State Security Service).
 */
authority?: string | null, } | { "type": "charges", 
/**
 * Articles, e.g. `206.3.2`.
 */
articles: Array<string>, 
/**
 * Which code (defaults to the Criminal Code).
 */
code?: string | null, } | { "type": "detention", 
/**
 * The facility (pre-trial centre, prison, colony).
 */
facility: string, } | { "type": "trial", 
/**
 * Court.
 */
court?: string | null, 
/**
 * Presiding judge.
 */
judge?: string | null, 
/**
 * Outcome (convicted, acquitted, appeal rejected, ...).
 */
outcome?: string | null, 
/**
 * Sentence as pronounced (e.g. "9 years").
 */
sentence?: string | null, } | { "type": "ill_treatment", 
/**
 * What was reported.
 */
description: string, } | { "type": "release", 
/**
 * How the person was released.
 */
kind?: ReleaseKind | null, } | { "type": "travel_ban", 
/**
 * Imposed by.
 */
authority?: string | null, } | { "type": "disbarment", 
/**
 * The body that disbarred (e.g. the Bar Association).
 */
body?: string | null, } | { "type": "death", 
/**
 * Circumstances as reported.
 */
circumstances?: string | null, };

/**
 * One dated event of a case.
 */
export type CaseEvent = { 
/**
 * When it happened (year, year-month or full date).
 */
date?: PartialDate | null, } & ({ "type": "arrest", 
/**
 * Where.
 */
place?: string | null, 
/**
 * Which authority (e.g. State Security Service).
 */
authority?: string | null, } | { "type": "charges", 
/**
 * Articles, e.g. `206.3.2`.
 */
articles: Array<string>, 
/**
 * Which code (defaults to the Criminal Code).
 */
code?: string | null, } | { "type": "detention", 
/**
 * The facility (pre-trial centre, prison, colony).
 */
facility: string, } | { "type": "trial", 
/**
 * Court.
 */
court?: string | null, 
/**
 * Presiding judge.
 */
judge?: string | null, 
/**
 * Outcome (convicted, acquitted, appeal rejected, ...).
 */
outcome?: string | null, 
/**
 * Sentence as pronounced (e.g. "9 years").
 */
sentence?: string | null, } | { "type": "ill_treatment", 
/**
 * What was reported.
 */
description: string, } | { "type": "release", 
/**
 * How the person was released.
 */
kind?: ReleaseKind | null, } | { "type": "travel_ban", 
/**
 * Imposed by.
 */
authority?: string | null, } | { "type": "disbarment", 
/**
 * The body that disbarred (e.g. the Bar Association).
 */
body?: string | null, } | { "type": "death", 
/**
 * Circumstances as reported.
 */
circumstances?: string | null, });

/**
 * A case: what happened to one detainee, as dated events.
 */
export type Case = { 
/**
 * The person the case is about.
 */
detainee_id: string, 
/**
 * A short title for lists.
 */
title?: string | null, 
/**
 * The events, in any order; readers sort by date.
 */
events: Array<CaseEvent>, 
/**
 * Free notes.
 */
notes?: string | null, 
/**
 * Confidentiality of this record.
 */
confidentiality: Confidentiality, 
/**
 * Reliability of the source.
 */
reliability: Reliability, };

/**
 * One interview: who spoke, who listened, what was said, and the consent given.
 */
export type Interview = { 
/**
 * The case this interview documents, if any.
 */
case_id?: string | null, 
/**
 * The detainee the interview is about, if any.
 */
detainee_id?: string | null, 
/**
 * The person who spoke, if recorded as a person.
 */
speaker_id?: string | null, 
/**
 * The speaker's relation to the detainee (mother, sister, lawyer, ...).
 */
relation?: string | null, 
/**
 * Who conducted the interview.
 */
interviewer: string, 
/**
 * When.
 */
date: PartialDate, 
/**
 * Where (may be left out for safety).
 */
place?: string | null, 
/**
 * Language of the interview (ISO 639-1, e.g. `az`, `ru`).
 */
language: string, 
/**
 * The consent given.
 */
consent: Consent, 
/**
 * The account, as told.
 */
narrative: string, 
/**
 * Confidentiality of this record.
 */
confidentiality: Confidentiality, 
/**
 * Reliability of the source.
 */
reliability: Reliability, };

/**
 * Any record body.
 */
export type RecordBody = { "kind": "person", "body": Person } | { "kind": "case", "body": Case } | { "kind": "interview", "body": Interview };

/**
 * What a vault is for.
 */
export type Role = "field" | "coordinator";

/**
 * A record as stored, with its custody metadata.
 */
export type StoredRecord = { 
/**
 * Record id (UUIDv7).
 */
id: string, 
/**
 * Current revision number (1 for a new record).
 */
rev: number, 
/**
 * SHA-256 of the current body's canonical JSON, fixed when saved.
 */
body_sha256: string, 
/**
 * When the record was first saved (RFC 3339, UTC).
 */
created_at: string, 
/**
 * The device that first saved it.
 */
created_by: string, 
/**
 * When the current revision was saved.
 */
updated_at: string, 
/**
 * The device that saved the current revision.
 */
updated_by: string, } & ({ "kind": "person", "body": Person } | { "kind": "case", "body": Case } | { "kind": "interview", "body": Interview });

/**
 * One revision of a record.
 */
export type Revision = { 
/**
 * Revision number, from 1.
 */
rev: number, 
/**
 * The body as it was.
 */
body: unknown, 
/**
 * SHA-256 of the body's canonical JSON.
 */
body_sha256: string, 
/**
 * The device that saved it.
 */
author: string, 
/**
 * When (RFC 3339, UTC).
 */
at: string, };

/**
 * Metadata of an attachment. The name is the original file name, which can
 * be sensitive: show it to the user only, never log it.
 */
export type AttachmentInfo = { 
/**
 * Attachment id (UUIDv7).
 */
id: string, 
/**
 * The record it belongs to.
 */
record_id: string, 
/**
 * Original file name.
 */
name: string, 
/**
 * Media type (guessed from the name unless given).
 */
media_type: string, 
/**
 * Size in bytes of the original.
 */
size: number, 
/**
 * SHA-256 of the original, fixed at capture.
 */
sha256: string, 
/**
 * When it was captured (RFC 3339, UTC).
 */
captured_at: string, 
/**
 * The device that captured it.
 */
captured_by: string, };

/**
 * What `vault check` found.
 */
export type CheckReport = { 
/**
 * Records checked.
 */
records: number, 
/**
 * Revisions checked.
 */
revisions: number, 
/**
 * Attachments re-hashed.
 */
attachments: number, 
/**
 * Bytes of attachments re-hashed.
 */
attachment_bytes: number, 
/**
 * Problems: the vault is not clean if any.
 */
problems: Array<string>, 
/**
 * Encrypted files in attachments/ that no record refers to (left by an
 * interrupted import); harmless, reported for completeness.
 */
orphan_files: number, 
/**
 * Facts that are not problems but must be named: recordings cut short
 * and recovered from their complete segments, recordings in progress.
 */
notes?: Array<string>, };

/**
 * The app's state before anything is unlocked: nothing about contents.
 */
export type AppStatus = { 
/**
 * A vault exists at the configured place.
 */
vault_exists: boolean, 
/**
 * It is open now.
 */
unlocked: boolean, 
/**
 * Minutes of inactivity before it locks itself.
 */
idle_lock_minutes: number, 
/**
 * Failed unlocks left before the vault is erased, if its owner set a
 * limit (the unlock screen warns at 3 or fewer).
 */
attempts_left: number | null, };

/**
 * `create_vault` arguments.
 */
export type CreateVaultRequest = { 
/**
 * Field or coordinator.
 */
role: Role, 
/**
 * The new passphrase (8 characters at least).
 */
passphrase: string, };

/**
 * The result of `create_vault`.
 */
export type CreatedVault = { 
/**
 * Shown once, to be written down; never stored in clear.
 */
recovery_code: string, 
/**
 * The open session.
 */
session: SessionInfo, };

/**
 * `unlock` arguments.
 */
export type UnlockRequest = { "method": "passphrase", 
/**
 * The passphrase.
 */
secret: string, } | { "method": "recovery_code", 
/**
 * The code, as typed (case, spaces and dashes do not matter).
 */
secret: string, };

/**
 * `change_passphrase` arguments.
 */
export type ChangePassphraseRequest = { 
/**
 * The passphrase in use.
 */
current: string, 
/**
 * The new one.
 */
new: string, };

/**
 * Who this device is.
 */
export type SessionInfo = { 
/**
 * Field or coordinator.
 */
role: Role, 
/**
 * The device id recorded as author of everything saved here.
 */
device_id: string, 
/**
 * What to read aloud to a coordinator to check this device.
 */
device_fingerprint: string, };

/**
 * One row of a list or of search results. The label contains names: it is
 * for the user's eyes only.
 */
export type RecordSummary = { 
/**
 * Record id.
 */
id: string, 
/**
 * Its kind.
 */
kind: RecordKind, 
/**
 * One-line label.
 */
label: string, };

/**
 * `search` arguments.
 */
export type SearchRequest = { 
/**
 * What the user typed, in any script.
 */
query: string, 
/**
 * Only this kind of record.
 */
kind?: RecordKind | null, 
/**
 * At most this many hits (default 100, at most 500).
 */
limit?: number | null, };

/**
 * `save_record` arguments.
 */
export type SaveRecordRequest = { 
/**
 * None for a new record, the id for a new revision.
 */
id?: string | null, 
/**
 * The record body, `{"kind": "person", "body": {...}}`.
 */
record: RecordBody, };

/**
 * The result of `save_record`.
 */
export type SavedRecord = { 
/**
 * Record id.
 */
id: string, 
/**
 * The revision just saved.
 */
rev: number, };

/**
 * `attach_file` arguments.
 */
export type AttachFileRequest = { 
/**
 * The record the attachment belongs to.
 */
record_id: string, 
/**
 * Absolute path of the file to import.
 */
path: string, 
/**
 * Media type, guessed from the name when absent.
 */
media_type?: string | null, };

/**
 * What waits to be sent (lands with bundles).
 */
export type OutboxStatus = { 
/**
 * Records not yet in any bundle.
 */
pending_records: number, 
/**
 * Attachments not yet in any bundle.
 */
pending_attachments: number, 
/**
 * When the last bundle was written (RFC 3339).
 */
last_export_at: string | null, };

/**
 * `export_bundle` arguments.
 */
export type ExportBundleRequest = { 
/**
 * Where to write the bundle file.
 */
path: string, };

/**
 * `import_bundle` arguments.
 */
export type ImportBundleRequest = { 
/**
 * The bundle file.
 */
path: string, };

/**
 * What a bundle holds.
 */
export type BundleSummary = { 
/**
 * Bundle file path.
 */
path: string, 
/**
 * Records in it.
 */
records: number, 
/**
 * Attachments in it.
 */
attachments: number, 
/**
 * SHA-256 of the bundle file.
 */
sha256: string, };

/**
 * What an import did.
 */
export type ImportSummary = { 
/**
 * The device that signed the bundle.
 */
sender_device: string, 
/**
 * New records.
 */
added: number, 
/**
 * Records already present.
 */
already_present: number, };

/**
 * An enrolled device.
 */
export type DeviceSummary = { 
/**
 * Device id.
 */
device_id: string, 
/**
 * Its key fingerprint.
 */
fingerprint: string, 
/**
 * Revoked devices' bundles are refused.
 */
revoked: boolean, 
/**
 * The coordinator's note about the device (who carries it).
 */
label: string | null, };

/**
 * A request naming one file by its absolute path.
 */
export type PathRequest = { 
/**
 * Absolute path of the file to read or write.
 */
path: string, };

/**
 * `export_trust` arguments: where to write the trust file, and the HQ
 * server's key (the line `yaddash-hq init` printed) for field devices to
 * pin; without it, the key this coordinator vault already pinned (if any).
 */
export type TrustExportRequest = { 
/**
 * Absolute path of the file to write.
 */
path: string, 
/**
 * OpenSSH Ed25519 public key line of the HQ server.
 */
server_key?: string | null, };

/**
 * `import_trust` arguments: the trust file's path, or its text (read by
 * the window from a file the user picked).
 */
export type ImportTrustRequest = { 
/**
 * Absolute path of the trust file.
 */
path?: string | null, 
/**
 * The trust file's contents.
 */
text?: string | null, };

/**
 * One coordinator named in a trust file.
 */
export type CoordinatorSummary = { 
/**
 * Its device id.
 */
device_id: string, 
/**
 * Short fingerprint, to read aloud over the phone.
 */
fingerprint: string, 
/**
 * `SHA256:...` of its signing key, as `ssh-keygen -l` prints it.
 */
ssh_fingerprint: string, };

/**
 * The trust file a field vault holds (or a coordinator just wrote).
 */
export type TrustSummary = { 
/**
 * The headquarters id bundles are made for.
 */
hq_id: string, 
/**
 * Fingerprint of the whole file, to compare over the phone.
 */
fingerprint: string, 
/**
 * The coordinators bundles are encrypted to.
 */
coordinators: Array<CoordinatorSummary>, 
/**
 * Where the file was written (export only).
 */
path: string | null, 
/**
 * `SHA256:…` of the HQ server key the file pins (field devices enroll
 * only at a server holding it), or `None` when it names none.
 */
server_fingerprint: string | null, };

/**
 * This device's public identity, what a coordinator enrolls.
 */
export type DeviceIdentity = { 
/**
 * Device id.
 */
device_id: string, 
/**
 * Field or coordinator.
 */
role: Role, 
/**
 * OpenSSH Ed25519 public key line.
 */
signing_key: string, 
/**
 * age recipient.
 */
age_recipient: string, 
/**
 * Short fingerprint, to read aloud.
 */
fingerprint: string, 
/**
 * `SHA256:...` of the signing key.
 */
ssh_fingerprint: string, };

/**
 * `enroll_device` arguments.
 */
export type EnrollDeviceRequest = { 
/**
 * Absolute path of the device's identity file (`device show --json`).
 */
path: string, 
/**
 * A note about the device (who carries it).
 */
label?: string | null, };

/**
 * `revoke_device` arguments.
 */
export type RevokeDeviceRequest = { 
/**
 * The device to revoke from now on.
 */
device_id: string, };

/**
 * Where one revision of a record came from: a bundle imported here (the
 * revisions with no entry were saved on this device).
 */
export type RevisionOrigin = { 
/**
 * The revision number in this vault.
 */
rev: number, 
/**
 * The device that made it.
 */
device_id: string, 
/**
 * That device's label, if it is enrolled here and has one.
 */
device_label: string | null, 
/**
 * Whether that device is enrolled in this vault.
 */
device_enrolled: boolean, 
/**
 * The bundle that carried it.
 */
bundle_id: string, 
/**
 * The bundle's sequence number on that device.
 */
bundle_seq: number | null, 
/**
 * The revision number on that device.
 */
source_rev: number, 
/**
 * When the bundle was imported here (RFC 3339).
 */
imported_at: string | null, 
/**
 * Set when the bundle came from a revoked device and a coordinator
 * imported it on a recorded decision: the reason given.
 */
accepted_after_revocation?: string, 
/**
 * Whether this revision is a conflicting one not (yet) accepted as the
 * record's current body.
 */
pending_conflict: boolean, };

/**
 * `hq_invite` arguments.
 */
export type InviteRequest = { 
/**
 * How long the code stays valid, in hours (1 to 720).
 */
valid_hours: number, };

/**
 * What revoking a device did.
 */
export type DeviceRevoked = { 
/**
 * The device.
 */
device_id: string, 
/**
 * Its bundles made from this time on are refused (RFC 3339).
 */
revoked_from: string, 
/**
 * Revoked in this vault.
 */
in_vault: boolean, 
/**
 * Revoked at the HQ server too.
 */
at_server: boolean, 
/**
 * Whether this vault knows an HQ server.
 */
server_known: boolean, 
/**
 * Why the HQ server was not told (the safety policy, the network).
 */
server_error: ApiError | null, };

/**
 * `export_receipts` arguments.
 */
export type ExportReceiptsRequest = { 
/**
 * The device whose bundles were imported here.
 */
device_id: string, 
/**
 * Absolute path of the receipt file to write.
 */
path: string, };

/**
 * What `export_receipts` wrote.
 */
export type ReceiptsExported = { 
/**
 * The receipt file.
 */
path: string, 
/**
 * Signed receipts in it (one per imported bundle).
 */
receipts: number, };

/**
 * What `import_receipts` confirmed.
 */
export type ReceiptsImported = { 
/**
 * Bundle numbers newly confirmed as imported by headquarters.
 */
confirmed: Array<number>, 
/**
 * Receipts for bundles confirmed before.
 */
already: number, };

/**
 * A bundle this device made, and what headquarters confirmed about it.
 */
export type BundleOutSummary = { 
/**
 * Sequence number, from 1.
 */
seq: number, 
/**
 * Bundle id.
 */
bundle_id: string, 
/**
 * When it was made (RFC 3339).
 */
created_at: string, 
/**
 * Records carried.
 */
records: number, 
/**
 * Attachments carried.
 */
attachments: number, 
/**
 * When the HQ server confirmed receiving it.
 */
hq_received_at: string | null, 
/**
 * When a coordinator confirmed importing it.
 */
imported_at: string | null, };

/**
 * The status of a person in the register.
 */
export type RegisterStatus = "unknown" | "detained" | "convicted" | "released" | "pardoned" | "under_travel_ban" | "in_exile" | "deceased";

/**
 * Who an export is for.
 */
export type ExportLevel = "public" | "partner" | "internal";

/**
 * A manual status in force, with why, when and by which device.
 */
export type RegisterOverride = { 
/**
 * The status set by hand.
 */
status: RegisterStatus, 
/**
 * Why (internal: never in public or partner exports).
 */
reason: string, 
/**
 * When (RFC 3339).
 */
at: string, 
/**
 * The device that set it.
 */
by: string, };

/**
 * One line of the register list: one person (one or several merged
 * records). Names are for the coordinator's eyes only.
 */
export type RegisterRow = { 
/**
 * The record standing for the person.
 */
id: string, 
/**
 * Every record merged into it, the primary first.
 */
records: Array<string>, 
/**
 * Every name from every merged record.
 */
names: Array<string>, 
/**
 * The status in force (the override if any, else the derived one).
 */
status: RegisterStatus, 
/**
 * The status derived from the events.
 */
derived_status: RegisterStatus, 
/**
 * The manual override, if any.
 */
override: RegisterOverride | null, 
/**
 * Latest facility.
 */
facility: string | null, 
/**
 * Independent sources (distinct cases and interviews).
 */
sources: number, 
/**
 * Latest date any source speaks of (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
 */
last_confirmed: string | null, };

/**
 * `register_page` arguments: which rows of the register (sorted by name).
 */
export type RegisterPageRequest = { 
/**
 * Rows to skip.
 */
offset: number, 
/**
 * Rows wanted (at most 1,000 are returned).
 */
limit: number, };

/**
 * One page of the register list.
 */
export type RegisterPage = { 
/**
 * The rows from the offset asked for, sorted by name.
 */
rows: Array<RegisterRow>, 
/**
 * How many persons the whole register holds.
 */
total: number, };

/**
 * One side of a duplicate suggestion or a merge.
 */
export type RegisterPerson = { 
/**
 * Person record id.
 */
id: string, 
/**
 * Its names (for the coordinator's eyes only).
 */
label: string, };

/**
 * One reason two persons are probably the same (or not): structured, so
 * the app says it in the user's language; `Display` is the CLI's English.
 * Names and facilities are for the coordinator's eyes only.
 */
export type DuplicateReason = { "reason": "names_alike", 
/**
 * 60 to 100.
 */
percent: number, 
/**
 * A name of the first person.
 */
a: string, 
/**
 * A name of the second.
 */
b: string, } | { "reason": "same_birth_year", 
/**
 * The year.
 */
year: number, } | { "reason": "birth_years_one_apart", 
/**
 * The first person's.
 */
a: number, 
/**
 * The second's.
 */
b: number, } | { "reason": "birth_years_two_apart", 
/**
 * The first person's.
 */
a: number, 
/**
 * The second's.
 */
b: number, } | { "reason": "birth_years_differ", 
/**
 * The first person's.
 */
a: number, 
/**
 * The second's.
 */
b: number, } | { "reason": "birth_year_unknown" } | { "reason": "arrested_same_date", 
/**
 * `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
 */
date: string, } | { "reason": "same_facility", 
/**
 * The facility as written.
 */
facility: string, } | { "reason": "relative_spoke_about_both" };

/**
 * Two persons who are probably the same, with the score and the reasons.
 */
export type DuplicateSuggestion = { 
/**
 * One person (kept as primary by a merge from the UI).
 */
a: RegisterPerson, 
/**
 * The other.
 */
b: RegisterPerson, 
/**
 * 0 to 1.
 */
score: number, 
/**
 * Why, for the coordinator (structured: the app words them).
 */
reasons: Array<DuplicateReason>, };

/**
 * A merge in force: `merged` is the same person as `primary`.
 */
export type MergeSummary = { 
/**
 * The record standing for the person.
 */
primary: RegisterPerson, 
/**
 * The record merged into it.
 */
merged: RegisterPerson, 
/**
 * When (RFC 3339).
 */
at: string, };

/**
 * `register_merge` and `register_mark_distinct` arguments.
 */
export type RegisterPairRequest = { 
/**
 * The person that stays (merge), or one of the two (distinct).
 */
primary: string, 
/**
 * The person merged into it, or the other one.
 */
other: string, };

/**
 * `register_set_status` arguments.
 */
export type RegisterStatusRequest = { 
/**
 * The person.
 */
person_id: string, 
/**
 * The status to set; `None` clears the override.
 */
status: RegisterStatus | null, 
/**
 * Why (required; kept with who and when; internal only).
 */
reason: string, };

/**
 * `register_export` arguments.
 */
export type RegisterExportRequest = { 
/**
 * Who the export is for.
 */
level: ExportLevel, 
/**
 * `csv`, `json` or `html`.
 */
format: string, 
/**
 * Absolute path of the file to write (replaced if it exists).
 */
path: string, };

/**
 * What `register_export` wrote.
 */
export type RegisterExported = { 
/**
 * The file written (NOT encrypted).
 */
path: string, 
/**
 * Persons in it.
 */
persons: number, 
/**
 * Its size.
 */
bytes: number, };

/**
 * When the device may send.
 */
export type SyncMode = "manual" | "automatic";

/**
 * Who last set the policy.
 */
export type PolicySetBy = "default" | "trust-file" | "user";

/**
 * The policy as the settings form edits it (`policy_set` takes it,
 * `policy_get` answers it inside [`PolicyInfo`]).
 */
export type PolicyForm = { 
/**
 * Sync allowed at all. Until it is on, nothing touches the network.
 */
enabled: boolean, 
/**
 * The kill switch: no network activity at all.
 */
network_off: boolean, 
/**
 * `manual` or `automatic`.
 */
mode: SyncMode, 
/**
 * Daily windows for automatic sending, `HH:MM-HH:MM`.
 */
windows: Array<string>, 
/**
 * The windows' UTC offset, `+04:00`.
 */
utc_offset: string, 
/**
 * A SOCKS5 proxy URL, or none for a direct connection.
 */
proxy: string | null, 
/**
 * Never connect except through the proxy.
 */
require_proxy: boolean, };

/**
 * The policy and where sync stands.
 */
export type PolicyInfo = { 
/**
 * The policy.
 */
policy: PolicyForm, 
/**
 * Who set it last.
 */
set_by: PolicySetBy, 
/**
 * Whether this device is enrolled at an HQ server (knows its key).
 */
enrolled: boolean, 
/**
 * The HQ server's URL, if known.
 */
hq_url: string | null, 
/**
 * The vault's role (sync is for field vaults; coordinators pull).
 */
role: Role, };

/**
 * `hq_enroll` arguments.
 */
export type EnrollRequest = { 
/**
 * The coordinator's one-time code (`YDE1-…`).
 */
code: string, 
/**
 * The HQ server, e.g. `http://xxxx.onion:8440`.
 */
url: string, };

/**
 * `sync_start` arguments.
 */
export type SyncStartRequest = { 
/**
 * A SOCKS5 proxy for this run only (never drops a required proxy).
 */
proxy?: string | null, };

/**
 * `travel_prepare` arguments.
 */
export type TravelPrepareRequest = { 
/**
 * The user confirmed that records will be removed from this laptop.
 */
confirmed: boolean, 
/**
 * How long to wait for headquarters' import receipts (seconds).
 */
wait_secs: number, 
/**
 * Touch no network: remove only what is already confirmed.
 */
offline: boolean, };

/**
 * `hq_pull` arguments.
 */
export type HqPullRequest = { 
/**
 * The HQ server (remembered after first use).
 */
url?: string | null, };

/**
 * Which transfer.
 */
export type JobKind = "sync" | "auto_sync" | "travel" | "pull" | "enroll" | "revoke";

/**
 * Progress of a sync, for the CLI's bar and the app's events.
 */
export type SyncEvent = { "event": "exporting", 
/**
 * Bytes so far.
 */
bytes: number, } | { "event": "uploading", 
/**
 * Bundle.
 */
seq: number, 
/**
 * Bytes the server holds.
 */
sent: number, 
/**
 * Bundle size.
 */
total: number, } | { "event": "received", 
/**
 * Bundle.
 */
seq: number, } | { "event": "waiting", 
/**
 * Bundles not yet confirmed.
 */
unconfirmed: number, 
/**
 * Seconds waited so far.
 */
waited_secs: number, } | { "event": "removing", 
/**
 * Files done.
 */
done: number, 
/**
 * Files to do.
 */
total: number, } | { "event": "importing", 
/**
 * Bytes read so far.
 */
bytes: number, 
/**
 * The bundle's size.
 */
total: number, };

/**
 * A progress event of a transfer (Tauri event `sync-progress`).
 */
export type JobProgress = { 
/**
 * Which transfer.
 */
job: JobKind, } & ({ "event": "exporting", 
/**
 * Bytes so far.
 */
bytes: number, } | { "event": "uploading", 
/**
 * Bundle.
 */
seq: number, 
/**
 * Bytes the server holds.
 */
sent: number, 
/**
 * Bundle size.
 */
total: number, } | { "event": "received", 
/**
 * Bundle.
 */
seq: number, } | { "event": "waiting", 
/**
 * Bundles not yet confirmed.
 */
unconfirmed: number, 
/**
 * Seconds waited so far.
 */
waited_secs: number, } | { "event": "removing", 
/**
 * Files done.
 */
done: number, 
/**
 * Files to do.
 */
total: number, } | { "event": "importing", 
/**
 * Bytes read so far.
 */
bytes: number, 
/**
 * The bundle's size.
 */
total: number, });

/**
 * Where an outbox bundle stands.
 */
export type OutboxState = "pending" | "partly-sent" | "received" | "imported" | "handed-over";

/**
 * One bundle this device made.
 */
export type OutboxEntry = { 
/**
 * Sequence number.
 */
seq: number, 
/**
 * Bundle id.
 */
bundle_id: string, 
/**
 * When it was made.
 */
created_at: string, 
/**
 * File size.
 */
size: number, 
/**
 * Records carried.
 */
records: number, 
/**
 * Attachments carried.
 */
attachments: number, 
/**
 * Where it stands.
 */
state: OutboxState, 
/**
 * Bytes the server acknowledged so far (partly sent bundles).
 */
sent_bytes: number, 
/**
 * Whether the ciphertext is still in the outbox.
 */
in_outbox: boolean, 
/**
 * When the server confirmed it.
 */
hq_received_at: string | null, 
/**
 * When a coordinator confirmed importing it.
 */
imported_at: string | null, };

/**
 * What enrolling at a server answered.
 */
export type Enrolled = { 
/**
 * Always true (the JSON the CLI prints).
 */
enrolled: boolean, 
/**
 * The headquarters the server serves.
 */
hq_id: string, 
/**
 * `SHA256:…` fingerprint of the server's receipt key.
 */
server_fingerprint: string, };

/**
 * A one-time enrollment code a coordinator issued.
 */
export type Invite = { 
/**
 * The code (`YDE1-…`), for the field user to type or paste.
 */
code: string, 
/**
 * When it stops being accepted (RFC 3339, UTC).
 */
expires_at: string, };

/**
 * What a sync did.
 */
export type SyncReport = { 
/**
 * `direct` or `proxy`.
 */
route: 'direct' | 'proxy', 
/**
 * The bundle made from new records, if any.
 */
exported: number | null, 
/**
 * Records it carried.
 */
exported_records: number, 
/**
 * Bundle ids the server confirmed receiving.
 */
uploaded: Array<string>, 
/**
 * Bundles a coordinator confirmed importing (sequence numbers).
 */
confirmed_imported: Array<number>, 
/**
 * Receipts refused.
 */
receipt_problems: Array<string>, 
/**
 * When.
 */
at: string, };

/**
 * Why a record stays on the laptop.
 */
export type RemainingReason = { "reason": "not-sent" } | { "reason": "awaiting-import", 
/**
 * The bundle.
 */
seq: number, } | { "reason": "receipt-invalid", 
/**
 * The bundle.
 */
seq: number, 
/**
 * What is wrong.
 */
problem: string, } | { "reason": "not-in-receipt", 
/**
 * The bundle.
 */
seq: number, } | { "reason": "attachment-not-confirmed" };

/**
 * A record that stays.
 */
export type Remaining = { 
/**
 * The record.
 */
id: string, 
/**
 * Its kind.
 */
kind: RecordKind, } & ({ "reason": "not-sent" } | { "reason": "awaiting-import", 
/**
 * The bundle.
 */
seq: number, } | { "reason": "receipt-invalid", 
/**
 * The bundle.
 */
seq: number, 
/**
 * What is wrong.
 */
problem: string, } | { "reason": "not-in-receipt", 
/**
 * The bundle.
 */
seq: number, } | { "reason": "attachment-not-confirmed" });

/**
 * What removal would do now.
 */
export type TravelPlan = { 
/**
 * Records headquarters confirmed holding.
 */
removable: Array<string>, 
/**
 * Attachments that go with them.
 */
removable_attachments: number, 
/**
 * Records that stay, with the reason.
 */
remaining: Array<Remaining>, 
/**
 * Bundles with verified import receipts.
 */
confirmed_bundles: Array<number>, };

/**
 * What `travel prepare` did.
 */
export type TravelReport = { 
/**
 * Whether it talked to the server (false: offline, only what was
 * already confirmed was removed).
 */
sent: boolean, 
/**
 * Bundles made by this run.
 */
exported: number | null, 
/**
 * Records removed.
 */
removed_records: number, 
/**
 * Attachments removed.
 */
removed_attachments: number, 
/**
 * Attachment bytes overwritten and unlinked.
 */
removed_attachment_bytes: number, 
/**
 * Records that remain, and why.
 */
remaining: Array<Remaining>, 
/**
 * Bundles still waiting (not imported by headquarters).
 */
unconfirmed_bundles: Array<number>, 
/**
 * Free pages in the database after VACUUM (0 expected).
 */
free_pages: number, 
/**
 * Write-ahead log bytes after the checkpoint (0 expected).
 */
wal_bytes: number, 
/**
 * Receipts refused while fetching.
 */
receipt_problems: Array<string>, 
/**
 * When.
 */
at: string, };

/**
 * What `travel status` shows.
 */
export type TravelStatus = { 
/**
 * What removal would do now.
 */
plan: TravelPlan, 
/**
 * Bundles not yet imported by headquarters.
 */
unconfirmed_bundles: Array<number>, 
/**
 * The last `travel prepare`, if any.
 */
last_prepare: { at: string; removed_records: number; removed_attachments: number; remaining: number } | null, };

/**
 * What a pull did, for the window.
 */
export type PullSummary = { 
/**
 * Bundles imported.
 */
imported: number, 
/**
 * The ids of the bundles imported.
 */
bundles: Array<string>, 
/**
 * Bundles refused and left at the server, with why (one error each,
 * its detail naming the bundle and the device).
 */
refused: Array<ApiError>, 
/**
 * Receipts sent back to the devices.
 */
receipts_posted: number, };

/**
 * The end of a transfer (Tauri event `sync-finished`).
 */
export type JobFinished = { 
/**
 * Which transfer.
 */
job: JobKind, 
/**
 * Whether it completed.
 */
ok: boolean, 
/**
 * Why not.
 */
error: ApiError | null, 
/**
 * A sync's report.
 */
sync: SyncReport | null, 
/**
 * Travel mode's report.
 */
travel: TravelReport | null, 
/**
 * A pull's report.
 */
pull: PullSummary | null, };

/**
 * Records headquarters does not hold yet, for the warning before a quick
 * delete.
 */
export type Unsent = { 
/**
 * Records with a revision that is in no bundle, or only in bundles the
 * HQ server has not confirmed receiving and no coordinator confirmed
 * importing. `None` in a coordinator vault (it may be headquarters'
 * only copy: everything in it would be lost).
 */
records: number | null, 
/**
 * Outbox bundles not confirmed yet (carry them with `outbox save`).
 */
waiting_bundles: Array<number>, 
/**
 * The outbox directory.
 */
outbox: string, };

/**
 * What a quick delete did.
 */
export type DestroyReport = { 
/**
 * Milliseconds the crypto-erase took (keyslots, then database heads).
 */
crypto_erase_ms: number, 
/**
 * Milliseconds the whole delete took.
 */
total_ms: number, 
/**
 * Entries that could not be removed (or were not the vault's).
 */
left: Array<string>, };

/**
 * The coercion settings of the unlocked vault.
 */
export type CoercionSettings = { 
/**
 * A duress passphrase is set (known only inside the unlocked vault).
 */
duress_set: boolean, 
/**
 * Failed unlocks after which the vault is erased; `None`: never.
 */
unlock_limit: number | null, };

/**
 * `set_duress` arguments.
 */
export type SetDuressRequest = { 
/**
 * The duress passphrase.
 */
passphrase: string, };

/**
 * What the panic shortcut does.
 */
export type PanicAction = "lock_and_hide" | "quick_delete";

/**
 * Whether the shortcut works while another program has the focus.
 */
export type GlobalShortcutStatus = "active" | "wayland" | "unavailable";

/**
 * What the Settings screen shows.
 */
export type PanicInfo = { 
/**
 * The chosen action.
 */
action: PanicAction, 
/**
 * The shortcut, as a label.
 */
shortcut: string, 
/**
 * Whether it works outside the window.
 */
global: GlobalShortcutStatus, 
/**
 * Whether this build carries out a quick delete (the app's `QUICK_DELETE_AVAILABLE`).
 */
quick_delete_available: boolean, };

/**
 * A capture device.
 */
export type InputInfo = { 
/**
 * What `--input` takes: the device id (ALSA PCM name, e.g. `default`, `pulse`, `hw:CARD=PCH,DEV=0`).
 */
id: string, 
/**
 * A readable name.
 */
name: string, 
/**
 * The system's default input.
 */
default: boolean, };

/**
 * Starts a recording.
 */
export type RecordingStartRequest = { 
/**
 * The interview (saved; its consent level is set).
 */
record_id: string, 
/**
 * The input device id (`recording_inputs`); the default if absent.
 */
input?: string | null, 
/**
 * The first seconds hold the spoken consent.
 */
consent_seconds?: number | null, };

/**
 * What the record panel shows, polled a few times a second.
 */
export type RecordingStatus = { 
/**
 * A recording is running (paused or not).
 */
active: boolean, 
/**
 * Paused.
 */
paused: boolean, 
/**
 * The interview being recorded.
 */
record_id: string | null, 
/**
 * The input.
 */
input: string | null, 
/**
 * Milliseconds recorded (pauses not counted).
 */
elapsed_ms: number, 
/**
 * Peak level of the last buffer, 0..=1.
 */
level: number, 
/**
 * Bytes free on the vault's disk.
 */
free_bytes: number, 
/**
 * A recording does not start below this.
 */
min_free_bytes: number, };

/**
 * A recording's metadata, kept beside its attachment.
 */
export type RecordingInfo = { 
/**
 * The attachment holding the whole `.ogg` (same id as the recording).
 */
attachment_id: string, 
/**
 * The interview recorded.
 */
record_id: string, 
/**
 * When capture started (this device's clock, RFC 3339 UTC).
 */
started_at: string, 
/**
 * When capture ended (this device's clock): for a recovered recording,
 * the close of its last complete segment.
 */
ended_at: string, 
/**
 * The capture device's name.
 */
input: string, 
/**
 * Duration of the audio in milliseconds (from the Ogg granule position).
 */
duration_ms: number, 
/**
 * Codec and container.
 */
codec: string, 
/**
 * The first seconds marked as the speaker's spoken consent.
 */
consent_seconds: number | null, 
/**
 * Segments the recording was written in.
 */
segments: number, 
/**
 * True when the recording was cut short (crash, power loss) and saved
 * from its complete segments when the vault was next opened.
 */
recovered: boolean, 
/**
 * SHA-256 of the whole `.ogg`, as the attachment holds it.
 */
sha256: string, 
/**
 * Its size in bytes.
 */
size: number, };

/**
 * Moves a file into the vault.
 */
export type MoveIntoVaultRequest = { 
/**
 * The record.
 */
record_id: string, 
/**
 * Absolute path of the file (picked by the user).
 */
path: string, };

/**
 * What a move did.
 */
export type MovedIntoVault = { 
/**
 * The attachment made.
 */
attachment: AttachmentInfo, 
/**
 * The original was overwritten and removed.
 */
original_removed: boolean, };

/**
 * An evidence pack to write.
 */
export type EvidenceExportRequest = { 
/**
 * The person or case whose page it is; its related records come too.
 */
record: string, 
/**
 * Who the pack is for.
 */
level: ExportLevel, 
/**
 * Absolute path of the ZIP file to write (replaced if it exists).
 */
path: string, };

/**
 * What `evidence_export` wrote.
 */
export type EvidenceExported = { 
/**
 * The file written (NOT encrypted).
 */
path: string, 
/**
 * Records in the pack.
 */
records: number, 
/**
 * Attachments in the pack.
 */
attachments: number, 
/**
 * Device-signed bundle manifests in the pack.
 */
manifests: number, 
/**
 * Related records and attachments the level left out.
 */
left_out: number, 
/**
 * Size of the file in bytes.
 */
bytes: number, 
/**
 * SHA-256 of the file, to note down when handing it over.
 */
sha256: string, };

/** Every error code, in declaration order. */
export const CODES: readonly Code[] = [
  "wrong_passphrase",
  "vault_erased",
  "bad_secret",
  "locked",
  "not_found",
  "invalid_input",
  "invalid_record",
  "wrong_reference",
  "kind_change",
  "path_not_absolute",
  "file_not_found",
  "file_unreadable",
  "file_too_large",
  "reason_required",
  "vault_exists",
  "not_a_vault",
  "disk_full",
  "corrupt",
  "attachment_missing",
  "attachment_corrupt",
  "busy",
  "cancelled",
  "not_available",
  "request_refused",
  "internal",
  "wrong_role",
  "no_trust",
  "trust_file_invalid",
  "device_file_invalid",
  "receipt_file_invalid",
  "policy_invalid",
  "device_keys_unreadable",
  "device_not_enrolled",
  "bundle_write_failed",
  "nothing_to_export",
  "not_a_bundle",
  "bundle_version_unsupported",
  "bundle_truncated",
  "bundle_altered",
  "bundle_forged",
  "bundle_not_for_us",
  "bundle_wrong_headquarters",
  "unknown_sender",
  "sender_key_invalid",
  "bundle_replayed",
  "bundle_sequence_reused",
  "bundle_chain_broken",
  "device_revoked",
  "bundle_not_from_sender",
  "bundle_bad_time",
  "bundle_too_large",
  "bundle_bad_layout",
  "receipt_refused",
  "network_off",
  "sync_disabled",
  "proxy_required",
  "manual_mode",
  "outside_window",
  "proxy_down",
  "bad_proxy",
  "network",
  "server_refused",
  "server_protocol",
  "bad_url",
  "no_server_url",
  "not_enrolled",
  "no_server_key",
  "server_key_invalid",
  "server_key_mismatch",
  "server_other_headquarters",
  "bad_enroll_code",
  "unknown_outbox_file",
  "not_in_outbox",
  "export_failed",
  "evidence_refused",
  "evidence_damaged",
  "evidence_write_failed",
  "unlock_limit_range",
  "quick_delete_failed",
  "no_microphone",
  "microphone_unknown",
  "microphone_failed",
  "recording_failed",
  "recording_running",
  "no_recording",
  "not_an_interview",
  "recording_low_space",
  "not_a_regular_file",
  "file_changed",
  "original_not_removed",
];
