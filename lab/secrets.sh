#!/usr/bin/env bash
# The lab's secrets, made once and never printed: .lab/vault-password, the encrypted lab vault
# (inventory/lab/group_vars/all/vault.yml, git-ignored) and the controller's SSH key pair .lab/ssh/id_ed25519.
# Re-runs leave them alone; the vault is only rewritten when the example vault has gained a key.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

umask 077
# make exports ANSIBLE_VAULT_PASSWORD_FILE; with --vault-password-file below that is two "default" vault ids,
# and ansible-vault encrypt refuses to choose between them.
unset ANSIBLE_VAULT_PASSWORD_FILE ANSIBLE_VAULT_IDENTITY_LIST
password=$LAB_STATE/vault-password
vault=$LAB_ROOT/inventory/lab/group_vars/all/vault.yml
example=$LAB_ROOT/inventory/homelab/group_vars/all/vault.yml.example
ansible_vault=$LAB_VENV/bin/ansible-vault
[ -x "$ansible_vault" ] || die "$ansible_vault is missing: run make setup"

mkdir -p "$LAB_STATE/ssh"
new_password=false
if [ ! -s "$password" ]; then
  head -c 32 /dev/urandom | base64 | tr -d '\n' >"$password"
  new_password=true
  say "created .lab/vault-password"
fi

if [ ! -s "$LAB_SSH_KEY" ]; then
  rm -f "$LAB_SSH_KEY.pub"
  ssh-keygen -q -t ed25519 -N '' -C "homelab-lab@$(hostname)" -f "$LAB_SSH_KEY"
  say "created the lab SSH key pair .lab/ssh/id_ed25519"
fi

plain=$(mktemp "$LAB_STATE/vault-plain.XXXXXX")
trap 'rm -f "$plain"' EXIT
if [ -f "$vault" ]; then
  if ! "$ansible_vault" decrypt --vault-password-file "$password" --output - "$vault" >"$plain" 2>/dev/null; then
    # A vault made for a password that is gone can never be read again: only then start over.
    [ "$new_password" = true ] ||
      die "cannot decrypt ${vault#"$LAB_ROOT"/} with .lab/vault-password; delete the vault to regenerate it"
    : >"$plain"
    say "the lab vault was encrypted with a lost password: regenerating it"
  fi
fi

added=$("$LAB_VENV/bin/python" "$LAB_DIR/vault_fill.py" "$example" "$plain")
if [ "$added" -eq 0 ]; then
  say "lab secrets present"
  exit 0
fi
error=$("$ansible_vault" encrypt --vault-password-file "$password" --output "$vault" "$plain" 2>&1 >/dev/null) ||
  die "ansible-vault encrypt failed: $error"
chmod 0600 "$vault"
say "lab vault: added $added random value(s), encrypted to ${vault#"$LAB_ROOT"/}"
