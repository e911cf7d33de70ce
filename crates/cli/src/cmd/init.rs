//! `yaddash init`

use clap::ValueEnum;
use serde_json::json;
use yaddash_vault::{CreateOptions, DEFAULT_WORK_FACTOR, MIN_WORK_FACTOR, Vault, VaultRole};

use crate::common::{CliResult, Context, new_passphrase};

#[derive(Clone, Copy, ValueEnum)]
pub enum Role {
    /// A field interviewer's vault.
    Field,
    /// A coordinator's vault (imports bundles, keeps the register).
    Coordinator,
}

#[derive(clap::Args)]
pub struct Args {
    /// What the vault is for.
    #[arg(long, value_enum, default_value = "field")]
    role: Role,
    /// scrypt work factor (log2 N) for the keyslots. Only tests lower it.
    #[arg(long, hide = true, default_value_t = DEFAULT_WORK_FACTOR,
          value_parser = clap::value_parser!(u8).range(MIN_WORK_FACTOR as i64..=22))]
    kdf_work_factor: u8,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let dir = ctx.vault_dir()?;
        let passphrase = new_passphrase(ctx.passphrase_file.as_deref())?;
        let role = match self.role {
            Role::Field => VaultRole::Field,
            Role::Coordinator => VaultRole::Coordinator,
        };
        let options = CreateOptions {
            role,
            kdf_work_factor: self.kdf_work_factor,
        };
        let (mut vault, recovery) = Vault::create(dir, &passphrase, &options)?;
        // Every vault gets its signing and encryption keys at creation.
        let device = yaddash_exchange::device_info(&mut vault)?;
        let value = json!({
            "vault": dir,
            "role": role,
            "device_id": vault.device_id(),
            "recovery_code": recovery.expose(),
            "fingerprint": device.fingerprint,
        });
        ctx.print(&value, || {
            format!(
                "Created a {} vault in {}\nDevice id: {}\nFingerprint: {}\n\n\
                 RECOVERY CODE (shown only now): {}\n\n\
                 Write it on paper and keep it apart from this computer. It alone opens the\n\
                 vault if the passphrase is forgotten; anyone who has it can open the vault.",
                role.as_str(),
                dir.display(),
                vault.device_id(),
                device.fingerprint.short,
                recovery.expose()
            )
        })
    }
}
