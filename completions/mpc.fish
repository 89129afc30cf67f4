# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mpc_global_optspecs
    string join \n home= json q/quiet v/verbose no-input passphrase-file= h/help V/version
end

function __fish_mpc_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mpc_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mpc_using_subcommand
    set -l cmd (__fish_mpc_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mpc -n "__fish_mpc_needs_command" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_needs_command" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_needs_command" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_needs_command" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_needs_command" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_needs_command" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_needs_command" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "init" -d 'Create a party home: identity keys encrypted under a passphrase, and a database'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "id" -d 'Print this party\'s public card (to give to the other parties)'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "contacts" -d 'Manage the cards of other parties'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "keygen" -d 'Plan and run a distributed key generation'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "sign" -d 'Plan and run a threshold signing session'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "verify" -d 'Verify a signature with only the public key (no home needed)'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "keys" -d 'Show keys and export public keys'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "primes" -d 'Paillier primes for ECDSA aux info, made ahead of time'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "presign" -d 'ECDSA presignatures: the offline phase of signing, done ahead of time'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "qr" -d 'Move round messages as QR codes: show yours, scan the others\''
complete -c mpc -n "__fish_mpc_needs_command" -f -a "refresh" -d 'Give every party a new share of a key (FROST, or n-of-n ECDSA); old shares stop working'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "repair" -d 'Give a party that lost its share of a FROST key a new one, with the help of t others'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "reshare" -d 'Move a FROST key to a new party set and threshold; its public key stays'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "suspend" -d 'Stop a key from signing (this party\'s share) until it is resumed'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "resume" -d 'Let a suspended key sign again'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "delete" -d 'Schedule a key\'s share for destruction, cancel that, or destroy the shares due'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "sessions" -d 'List unfinished ceremony sessions, or abandon one and destroy its secrets'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "relay" -d 'Run an untrusted store-and-forward relay for round messages over TCP'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "serve" -d 'Run this home as a node of a signing cluster (HTTP API); manage its API tokens'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "inspect" -d 'Show what a plan, card, round message (file, QR image or ur: text) or backup is, without secrets'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "audit" -d 'Show and check the hash-chained audit log'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "demo" -d 'Run a whole 2-of-3 keygen and signing for every scheme (ECDSA too) in temporary homes'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "bench" -d 'Measure threshold ECDSA on this machine, in-process and end to end'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "version" -d 'Print the version, the commit it was built from, the compiler and the crypto crates'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "man" -d 'Write man pages'
complete -c mpc -n "__fish_mpc_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand init" -l name -d 'This party\'s name, as the others will see it (letters, digits, - _ .)' -r
complete -c mpc -n "__fish_mpc_using_subcommand init" -l kdf-log-n -d 'scrypt work factor for the passphrase (log2 N). Lower only for tests' -r
complete -c mpc -n "__fish_mpc_using_subcommand init" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand init" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand init" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand init" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand init" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand init" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand init" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand init" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand id" -s o -l out -d 'Also write the card to FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand id" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand id" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand id" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand id" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand id" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand id" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand id" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand id" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -f -a "add" -d 'Import cards (after comparing their fingerprints with their owners)'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -f -a "list" -d 'List imported cards'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and not __fish_seen_subcommand_from add list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -s y -l yes -d 'Do not ask to confirm the fingerprints'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "add" -d 'Import cards (after comparing their fingerprints with their owners)'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "list" -d 'List imported cards'
complete -c mpc -n "__fish_mpc_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -f -a "plan" -d 'Write a keygen plan for the parties to confirm'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -f -a "run" -d 'Take part in the keygen of a plan'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and not __fish_seen_subcommand_from plan run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l scheme -d 'The signature scheme' -r -f -a "eddsa-ed25519\t'FROST(Ed25519, SHA-512): RFC 8032 Ed25519 signatures'
schnorr-secp256k1-tr\t'FROST with BIP340/Taproot: BIP340 Schnorr signatures under the BIP341-tweaked key'
schnorr-secp256k1\t'FROST(secp256k1, SHA-256) as in RFC 9591'
ecdsa-secp256k1\t'CGGMP21 threshold ECDSA on secp256k1: low-s ECDSA with a recovery id'"
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -s t -l threshold -d 'Signers required (t of t-of-n)' -r
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l party -d 'A party, in order: a card file, a contact name, or `me`. Repeat for each party' -r
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l label -d 'A label for the key' -r
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l aux -d 'ecdsa-secp256k1: generate aux info (Paillier keys) in this ceremony, or reuse the aux info these parties generated before [default: reuse if this home has it]' -r -f -a "generate\t'Run aux-info generation first, in the same session (slow: Paillier proofs)'
reuse\t'Use the aux info this party set generated before (a keygen takes milliseconds)'"
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l expires -d 'How long the plan stays valid' -r
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -s o -l out -d 'Write the plan to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l dir -d 'The message directory shared with the other parties (a USB stick, a shared folder). With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l relay -d 'Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory' -r
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l timeout -d 'How long to wait for the other parties without --step' -r
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l step -d 'Do what can be done now, then exit (4 if still waiting); run again after copying files'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -s y -l yes -d 'Confirm the plan without asking (only after comparing its fingerprint)'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Write a keygen plan for the parties to confirm'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take part in the keygen of a plan'
complete -c mpc -n "__fish_mpc_using_subcommand keygen; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -f -a "plan" -d 'Write a signing plan: the key, the signers and the exact message'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -f -a "run" -d 'Take part in the signing session of a plan'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and not __fish_seen_subcommand_from plan run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l key -d 'The key id (or a unique prefix)' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l signers -d 'The signers: names or 1-based indices, comma separated (at least t)' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l message -d 'The message: a file, or - for stdin' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l message-hex -d 'The message as hex' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l label -d 'A label for the session' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l hash -d 'ecdsa-secp256k1: how the message is hashed before signing [default: sha256]' -r -f -a "sha256\t'SHA-256 of the message (Bitcoin-style, generic)'
keccak256\t'Keccak-256 of the message (Ethereum-style)'
prehash\t'The message is already a 32-byte digest, signed as is'
eip191\t'Ethereum personal_sign (EIP-191 version 0x45): Keccak-256 of "\\x19Ethereum Signed Message:\\n", the message\'s length in decimal, and the message'
eip712\t'EIP-712 typed data: the message is the JSON of `eth_signTypedData_v4`; its signing hash is signed'"
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l path -d 'ecdsa-secp256k1: sign with the child key at this non-hardened BIP32 path, e.g. m/0/1' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l expires -d 'How long the plan stays valid' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -s o -l out -d 'Write the plan to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l presigned -d 'ecdsa-secp256k1: sign in one round with an unused presignature of these signers (see `mpc presign`); not with --path or --hash prehash'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l dir -d 'The message directory shared with the other parties (a USB stick, a shared folder). With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l relay -d 'Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l timeout -d 'How long to wait for the other parties without --step' -r
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -s o -l out -d 'Write the signature to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l encoding -d 'The signature\'s encoding' -r -f -a "hex\t'Lowercase hex'
base64\t'Standard base64'
raw\t'Raw bytes'"
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l ecdsa-format -d 'ecdsa-secp256k1: the signature form' -r -f -a "compact\t'r||s, 64 bytes'
der\t'ASN.1 DER'
recoverable\t'r||s||v, 65 bytes, v the recovery id (0 or 1)'
eth\t'r||s||v, 65 bytes, v = 27 + the recovery id, as eth_sign and personal_sign return'"
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l step -d 'Do what can be done now, then exit (4 if still waiting); run again after copying files'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -s y -l yes -d 'Confirm the plan without asking (only after comparing its fingerprint)'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Write a signing plan: the key, the signers and the exact message'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take part in the signing session of a plan'
complete -c mpc -n "__fish_mpc_using_subcommand sign; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l scheme -d 'The signature scheme' -r -f -a "eddsa-ed25519\t'FROST(Ed25519, SHA-512): RFC 8032 Ed25519 signatures'
schnorr-secp256k1-tr\t'FROST with BIP340/Taproot: BIP340 Schnorr signatures under the BIP341-tweaked key'
schnorr-secp256k1\t'FROST(secp256k1, SHA-256) as in RFC 9591'
ecdsa-secp256k1\t'CGGMP21 threshold ECDSA on secp256k1: low-s ECDSA with a recovery id'"
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l public-key -d 'The public key as hex (Ed25519 32 bytes; BIP340 32-byte x-only or 33; secp256k1 33)' -r
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l message -d 'The message: a file, or - for stdin' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l message-hex -d 'The message as hex' -r
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l signature -d 'The signature: hex or base64 text, or a file holding hex, base64 or raw bytes. ECDSA: compact r||s, r||s||v, or DER' -r
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l hash -d 'ecdsa-secp256k1: how the message was hashed [default: sha256]' -r -f -a "sha256\t'SHA-256 of the message (Bitcoin-style, generic)'
keccak256\t'Keccak-256 of the message (Ethereum-style)'
prehash\t'The message is already a 32-byte digest, signed as is'
eip191\t'Ethereum personal_sign (EIP-191 version 0x45): Keccak-256 of "\\x19Ethereum Signed Message:\\n", the message\'s length in decimal, and the message'
eip712\t'EIP-712 typed data: the message is the JSON of `eth_signTypedData_v4`; its signing hash is signed'"
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand verify" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand verify" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand verify" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand verify" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "list" -d 'List keys'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "show" -d 'Show a key\'s metadata'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "export" -d 'Print a key\'s public key'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "address" -d 'Print a key\'s address on a chain'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "backup" -d 'Write an encrypted backup of your share of a key'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "restore" -d 'Restore a share from a backup, after checking it against the key'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and not __fish_seen_subcommand_from list show export address backup restore help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -l format -d 'Output form' -r -f -a "hex\t'The scheme\'s standard form, hex (Ed25519 32, BIP340 x-only 32, secp256k1 33 bytes)'
pem\t'PEM SubjectPublicKeyInfo'"
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -l path -d 'ecdsa-secp256k1: the child key at this non-hardened BIP32 path, e.g. m/0/1 (reads your share, so it asks for the passphrase)' -r
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l chain -d 'The chain' -r -f -a "bitcoin\t'Bitcoin mainnet (bc1...)'
bitcoin-testnet\t'Bitcoin testnet and signet (tb1...)'
ethereum\t'Ethereum and EVM chains (0x..., EIP-55)'
cosmos\t'Cosmos SDK chains (bech32 with --prefix, default cosmos)'
solana\t'Solana (base58)'"
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l prefix -d 'cosmos: the bech32 prefix of the chain (cosmos, osmo, terra, ...)' -r
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l path -d 'ecdsa-secp256k1: the address of the child key at this non-hardened BIP32 path (reads your share, so it asks for the passphrase)' -r
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from address" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -s o -l out -d 'Write the backup to FILE (ASCII-armored age, mode 0600)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -l to -d 'Encrypt to this age recipient (age1...) instead of a passphrase; repeatable' -r
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -l backup-passphrase-file -d 'Read the backup\'s passphrase from the first line of FILE [env: MPC_BACKUP_PASSPHRASE]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from backup" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -l backup-passphrase-file -d 'Read the backup\'s passphrase from the first line of FILE [env: MPC_BACKUP_PASSPHRASE]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -l identity -d 'An age identity file that opens a backup made with --to (your own identity is tried first)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from restore" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'List keys'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a key\'s metadata'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "export" -d 'Print a key\'s public key'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "address" -d 'Print a key\'s address on a chain'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Write an encrypted backup of your share of a key'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Restore a share from a backup, after checking it against the key'
complete -c mpc -n "__fish_mpc_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -f -a "generate" -d 'Generate prime sets into this home (each takes seconds to minutes)'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -f -a "import" -d 'Add prime sets from files (JSON, as in testdata/primes)'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -f -a "list" -d 'Show how many prime sets are ready'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and not __fish_seen_subcommand_from generate import list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -l count -d 'How many sets to generate (one is used per aux-info ceremony)' -r
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Generate prime sets into this home (each takes seconds to minutes)'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from help" -f -a "import" -d 'Add prime sets from files (JSON, as in testdata/primes)'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show how many prime sets are ready'
complete -c mpc -n "__fish_mpc_using_subcommand primes; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -f -a "plan" -d 'Write a presigning plan for a key and a signer set'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -f -a "run" -d 'Take part in a presigning session'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -f -a "list" -d 'List this home\'s unused presignatures'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and not __fish_seen_subcommand_from plan run list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l key -d 'The key id (or a unique prefix)' -r
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l signers -d 'The signers who will later sign with it: names or 1-based indices, comma separated' -r
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l label -d 'A label for the session' -r
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l expires -d 'How long the plan stays valid' -r
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -s o -l out -d 'Write the plan to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l dir -d 'The message directory shared with the other parties (a USB stick, a shared folder). With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l relay -d 'Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory' -r
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l timeout -d 'How long to wait for the other parties without --step' -r
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l step -d 'Do what can be done now, then exit (4 if still waiting); run again after copying files'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -s y -l yes -d 'Confirm the plan without asking (only after comparing its fingerprint)'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Write a presigning plan for a key and a signer set'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take part in a presigning session'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from help" -f -a "list" -d 'List this home\'s unused presignatures'
complete -c mpc -n "__fish_mpc_using_subcommand presign; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -f -a "show" -d 'Show your round messages (or cards and plans) as one stream of QR codes (terminal, PNG, SVG or text)'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -f -a "scan" -d 'Read a stream of QR codes (images, folders of frames, ur: text) into a message folder (cards and plans too)'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and not __fish_seen_subcommand_from show scan help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l plan -d 'The ceremony\'s plan: show the messages your latest step wrote to --dir' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l dir -d 'The message directory your steps write to' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l density -d 'Bytes of message per QR code' -r -f -a "low\t'200 bytes per code: small codes for poor cameras or small screens'
normal\t'400 bytes per code (the default)'
high\t'800 bytes per code: fewer, denser codes for good cameras'"
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l fps -d 'Frames per second in the terminal' -r
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l png -d 'Write the codes as PNG files into DIR instead of the terminal' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l svg -d 'Write the codes as SVG files into DIR instead of the terminal' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l text -d 'Write the parts as ur: text, one per line, to FILE (- for stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l parts -d 'Parts to write to files [default: as many as rebuild the stream, the number of fragments unless a picture was left out]; more parts are fountain-coded mixes that make up for lost ones' -r
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l all -d 'With --plan: every message of yours in the session, not only the latest round'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -l dir -d 'The message directory to write the messages into (the one your steps read)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from scan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show your round messages (or cards and plans) as one stream of QR codes (terminal, PNG, SVG or text)'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from help" -f -a "scan" -d 'Read a stream of QR codes (images, folders of frames, ur: text) into a message folder (cards and plans too)'
complete -c mpc -n "__fish_mpc_using_subcommand qr; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -f -a "plan" -d 'Write a refresh plan for a key (all of its parties take part)'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -f -a "run" -d 'Take part in a refresh session'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and not __fish_seen_subcommand_from plan run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l key -d 'The key id (or a unique prefix)' -r
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l label -d 'A label for the session' -r
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l expires -d 'How long the plan stays valid' -r
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -s o -l out -d 'Write the plan to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l dir -d 'The message directory shared with the other parties (a USB stick, a shared folder). With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l relay -d 'Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory' -r
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l timeout -d 'How long to wait for the other parties without --step' -r
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l step -d 'Do what can be done now, then exit (4 if still waiting); run again after copying files'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -s y -l yes -d 'Confirm the plan without asking (only after comparing its fingerprint)'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Write a refresh plan for a key (all of its parties take part)'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take part in a refresh session'
complete -c mpc -n "__fish_mpc_using_subcommand refresh; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -f -a "plan" -d 'Write a repair plan: who lost the share, who helps'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -f -a "run" -d 'Take part in a repair session (as a helper, or as the party being repaired)'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and not __fish_seen_subcommand_from plan run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l key -d 'The key id (or a unique prefix)' -r
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l lost -d 'The party that lost its share: a name or 1-based index' -r
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l helpers -d 'The helpers, at least t parties holding shares: names or 1-based indices, comma separated' -r
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l expires -d 'How long the plan stays valid' -r
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -s o -l out -d 'Write the plan to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l dir -d 'The message directory shared with the other parties (a USB stick, a shared folder). With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l relay -d 'Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory' -r
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l timeout -d 'How long to wait for the other parties without --step' -r
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l step -d 'Do what can be done now, then exit (4 if still waiting); run again after copying files'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -s y -l yes -d 'Confirm the plan without asking (only after comparing its fingerprint)'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Write a repair plan: who lost the share, who helps'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take part in a repair session (as a helper, or as the party being repaired)'
complete -c mpc -n "__fish_mpc_using_subcommand repair; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -f -a "plan" -d 'Write a reshare plan: who deals, who holds the key afterwards, the new threshold'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -f -a "run" -d 'Take part in a reshare session'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and not __fish_seen_subcommand_from plan run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l key -d 'The key id (or a unique prefix); this home must hold a share of it' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l from -d 'The key\'s holders who deal, by name, comma-separated: at least the key\'s threshold' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -s t -l threshold -d 'The new threshold [default: the key\'s]' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l party -d 'A holder after the reshare, in the new key\'s order: a name of the key\'s parties, a card file, a contact name, or `me`. Repeat for each' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l label -d 'A label for the session (and the key\'s label in new holders\' homes) [default: the key\'s label]' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l aux -d 'ecdsa-secp256k1: the new holders generate aux info (Paillier keys) for the new party set in this ceremony, or reuse what they generated before for exactly that set [default: reuse if this home has it]' -r -f -a "generate\t'Run aux-info generation first, in the same session (slow: Paillier proofs)'
reuse\t'Use the aux info this party set generated before (a keygen takes milliseconds)'"
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l expires -d 'How long the plan stays valid' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -s o -l out -d 'Write the plan to FILE (default: stdout)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l dir -d 'The message directory shared with the other parties (a USB stick, a shared folder). With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l relay -d 'Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l timeout -d 'How long to wait for the other parties without --step' -r
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l step -d 'Do what can be done now, then exit (4 if still waiting); run again after copying files'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -s y -l yes -d 'Confirm the plan without asking (only after comparing its fingerprint)'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Write a reshare plan: who deals, who holds the key afterwards, the new threshold'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take part in a reshare session'
complete -c mpc -n "__fish_mpc_using_subcommand reshare; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -l reason -d 'Why (recorded in the audit log)' -r
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand suspend" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand resume" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand resume" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand resume" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand resume" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand resume" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand resume" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand resume" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand resume" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l after -d 'How long from now the share may be destroyed (by `mpc delete --purge`)' -r
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l reason -d 'Why (recorded in the audit log)' -r
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l cancel -d 'Cancel the key\'s scheduled deletion; the key stays suspended'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l purge -d 'Destroy the shares of every key whose deletion date has passed (metadata is kept)'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand delete" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -f -a "list" -d 'List unfinished sessions: kind, label, age, and what each waits for'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -f -a "abandon" -d 'End an unfinished session for good and destroy its secret state (nonces, seeds)'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and not __fish_seen_subcommand_from list abandon help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -l all -d 'Also list finished and aborted sessions'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -s y -l yes -d 'Do not ask for confirmation'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from abandon" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "list" -d 'List unfinished sessions: kind, label, age, and what each waits for'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "abandon" -d 'End an unfinished session for good and destroy its secret state (nonces, seeds)'
complete -c mpc -n "__fish_mpc_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l listen -d 'The address to listen on (port 0 picks a free port; the address is printed)' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l max-message-size -d 'The largest message accepted, in bytes (K, M suffixes allowed)' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l max-messages -d 'Messages one session may hold' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l session-lifetime -d 'How long a session is kept after its first party connects' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l max-sessions -d 'Sessions held at once' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l max-connections -d 'Connections open at once' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l idle-timeout -d 'Close a connection that sends nothing for this long' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l max-connections-per-address -d 'Connections open at once from one client address (a member\'s node, once authenticated, is not counted)' -r
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l cluster -d 'Node mode: admit only the nodes of this cluster file (`mpc serve cluster init`); a member\'s node is let in even when strangers hold every connection' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l member -d 'Node mode: admit this member\'s node (a card file; repeatable; with or instead of --cluster)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand relay" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand relay" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand relay" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand relay" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand relay" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l listen -d 'The HTTP address to listen on (port 0 picks a free port; the address is printed)' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l tls-cert -d 'Serve HTTPS with this PEM certificate chain (with --tls-key)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l tls-key -d 'The PEM private key of --tls-cert' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l log-format -d 'How the node writes its log to stderr: `text` (a line per event) or `json` (an object per event); either way with the request id, session and key of the event' -r -f -a "text\t'One line per event: time, level, the spans (request id, session, key) and the message'
json\t'One JSON object per event, with the same fields'"
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l relay -d 'The bus the cluster\'s nodes meet on: an `mpc relay` (node mode) at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...]' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l nats-creds -d 'With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l cluster -d 'The cluster file (`mpc serve cluster init`): the members\' cards' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l peer -d 'A member\'s card file (repeatable; with or instead of --cluster)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l session-timeout -d 'How long a signing session may take before the request fails with 504 (a whole ECDSA signing gets at least 30s; making a presignature, the --keygen-timeout)' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l keygen-timeout -d 'How long a key generation may take' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l approval-timeout -d 'How long a session waits for an operator where a key\'s policy is `approval` (give every node the same)' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l presign-pool -d 'ECDSA presignatures this node keeps per key and signer set, made in the background by sessions it coordinates (0: none; every ECDSA signature is then a whole session)' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l presign-low -d 'Top the presignature pool up when it holds fewer than this' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l prime-pool -d 'Sets of Paillier primes to keep ready in the home for the aux info of new ECDSA party sets, generated in the background (one core for 15 s to a minute or more each; 0: never, use `mpc primes`)' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l max-sessions -d 'Sessions this node runs at once (coordinated and joined); more are refused' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l rate-limit -d 'Requests per second one API token may make, with bursts of as many (0: no limit); more are answered 429 with Retry-After' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l max-requests -d 'HTTP requests in flight at once; more are answered 503 at once' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l outsider-rate -d 'Requests per second one client address may make without a valid token, with bursts of as many (0: no limit); more are answered 429 and leave no audit row' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l max-connections-per-address -d 'Connections at once from one client address; more are closed at once' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l max-connections -d 'Connections at once in all; more are closed at once [default: 4096, or the open-file limit less 128 where that is lower]' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l header-timeout -d 'A connection must send a whole request head within this, or it is closed' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l idle-timeout -d 'A connection that moves no byte for this long while none of its requests is being answered is closed' -r
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l insecure-http -d 'Allow plain HTTP on an address other than loopback (tokens then cross the network in clear; give --tls-cert and --tls-key instead)'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -f -a "token" -d 'Create, list and revoke API tokens'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -f -a "cluster" -d 'Write a cluster file'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and not __fish_seen_subcommand_from token cluster help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create a token; it is shown once'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -f -a "list" -d 'List tokens (never their secrets)'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke a token by its id'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from token" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -f -a "init" -d 'Write a cluster file from the members\' cards'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from cluster" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "token" -d 'Create, list and revoke API tokens'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "cluster" -d 'Write a cluster file'
complete -c mpc -n "__fish_mpc_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -f -a "log" -d 'Print the audit log'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -f -a "verify" -d 'Check the chain, its latest signed checkpoint and an anchor (exit 1 on any break)'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -f -a "head" -d 'Sign the current head with this party\'s identity and print it, for a worksheet'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and not __fish_seen_subcommand_from log verify head help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from log" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -l anchor -d 'A head recorded elsewhere (`mpc audit head`), as SEQ:HASH: the log must still extend it' -r
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from head" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "log" -d 'Print the audit log'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the chain, its latest signed checkpoint and an anchor (exit 1 on any break)'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "head" -d 'Sign the current head with this party\'s identity and print it, for a worksheet'
complete -c mpc -n "__fish_mpc_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand demo" -l scheme -d 'Run the demo for this scheme only (default: every scheme, ECDSA included)' -r -f -a "eddsa-ed25519\t'FROST(Ed25519, SHA-512): RFC 8032 Ed25519 signatures'
schnorr-secp256k1-tr\t'FROST with BIP340/Taproot: BIP340 Schnorr signatures under the BIP341-tweaked key'
schnorr-secp256k1\t'FROST(secp256k1, SHA-256) as in RFC 9591'
ecdsa-secp256k1\t'CGGMP21 threshold ECDSA on secp256k1: low-s ECDSA with a recovery id'"
complete -c mpc -n "__fish_mpc_using_subcommand demo" -l keep -d 'Keep the demo homes and messages in DIR instead of a temporary directory' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand demo" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand demo" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand demo" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand demo" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand demo" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand demo" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand demo" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -s n -l parties -d 'Number of parties' -r
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -s t -l threshold -d 'Signers required' -r
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -l primes-dir -d 'Use pregenerated primes `primes-K.json` from DIR (e.g. testdata/primes) instead of generating them (which is then measured)' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -l e2e -d 'Also run every ceremony through mpc processes over files'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -f -a "reshare" -d 'A 2-of-3 → 3-of-5 reshare (and FROST keygen and refresh), in process and end to end'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and not __fish_seen_subcommand_from reshare help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l scheme -d 'The scheme' -r -f -a "eddsa-ed25519\t'FROST(Ed25519, SHA-512): RFC 8032 Ed25519 signatures'
schnorr-secp256k1-tr\t'FROST with BIP340/Taproot: BIP340 Schnorr signatures under the BIP341-tweaked key'
schnorr-secp256k1\t'FROST(secp256k1, SHA-256) as in RFC 9591'
ecdsa-secp256k1\t'CGGMP21 threshold ECDSA on secp256k1: low-s ECDSA with a recovery id'"
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l runs -d 'In-process runs of each operation (the median is shown)' -r
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l primes-dir -d 'ecdsa-secp256k1: pregenerated primes `primes-K.json` (five sets) from DIR, e.g. testdata/primes' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from reshare" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "reshare" -d 'A 2-of-3 → 3-of-5 reshare (and FROST keygen and refresh), in process and end to end'
complete -c mpc -n "__fish_mpc_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand version" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand version" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand version" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand version" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand version" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand version" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand version" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand version" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand completions" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand completions" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand completions" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand completions" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand completions" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand completions" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand man" -l out -d 'Directory to write the pages to' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand man" -l home -d 'The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand man" -l passphrase-file -d 'Read the passphrase from the first line of FILE' -r -F
complete -c mpc -n "__fish_mpc_using_subcommand man" -l json -d 'Print one JSON object on stdout instead of human output'
complete -c mpc -n "__fish_mpc_using_subcommand man" -s q -l quiet -d 'Print less on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand man" -s v -l verbose -d 'Print more on stderr'
complete -c mpc -n "__fish_mpc_using_subcommand man" -l no-input -d 'Never prompt; a question that needs an answer becomes an error'
complete -c mpc -n "__fish_mpc_using_subcommand man" -s h -l help -d 'Print help'
complete -c mpc -n "__fish_mpc_using_subcommand man" -s V -l version -d 'Print version'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "init" -d 'Create a party home: identity keys encrypted under a passphrase, and a database'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "id" -d 'Print this party\'s public card (to give to the other parties)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "contacts" -d 'Manage the cards of other parties'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "keygen" -d 'Plan and run a distributed key generation'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "sign" -d 'Plan and run a threshold signing session'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "verify" -d 'Verify a signature with only the public key (no home needed)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "keys" -d 'Show keys and export public keys'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "primes" -d 'Paillier primes for ECDSA aux info, made ahead of time'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "presign" -d 'ECDSA presignatures: the offline phase of signing, done ahead of time'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "qr" -d 'Move round messages as QR codes: show yours, scan the others\''
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "refresh" -d 'Give every party a new share of a key (FROST, or n-of-n ECDSA); old shares stop working'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "repair" -d 'Give a party that lost its share of a FROST key a new one, with the help of t others'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "reshare" -d 'Move a FROST key to a new party set and threshold; its public key stays'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "suspend" -d 'Stop a key from signing (this party\'s share) until it is resumed'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "resume" -d 'Let a suspended key sign again'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "delete" -d 'Schedule a key\'s share for destruction, cancel that, or destroy the shares due'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "sessions" -d 'List unfinished ceremony sessions, or abandon one and destroy its secrets'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "relay" -d 'Run an untrusted store-and-forward relay for round messages over TCP'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "serve" -d 'Run this home as a node of a signing cluster (HTTP API); manage its API tokens'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "inspect" -d 'Show what a plan, card, round message (file, QR image or ur: text) or backup is, without secrets'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "audit" -d 'Show and check the hash-chained audit log'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "demo" -d 'Run a whole 2-of-3 keygen and signing for every scheme (ECDSA too) in temporary homes'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "bench" -d 'Measure threshold ECDSA on this machine, in-process and end to end'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "version" -d 'Print the version, the commit it was built from, the compiler and the crypto crates'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "man" -d 'Write man pages'
complete -c mpc -n "__fish_mpc_using_subcommand help; and not __fish_seen_subcommand_from init id contacts keygen sign verify keys primes presign qr refresh repair reshare suspend resume delete sessions relay serve inspect audit demo bench version completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "add" -d 'Import cards (after comparing their fingerprints with their owners)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "list" -d 'List imported cards'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keygen" -f -a "plan" -d 'Write a keygen plan for the parties to confirm'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keygen" -f -a "run" -d 'Take part in the keygen of a plan'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from sign" -f -a "plan" -d 'Write a signing plan: the key, the signers and the exact message'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from sign" -f -a "run" -d 'Take part in the signing session of a plan'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'List keys'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "show" -d 'Show a key\'s metadata'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "export" -d 'Print a key\'s public key'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "address" -d 'Print a key\'s address on a chain'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "backup" -d 'Write an encrypted backup of your share of a key'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "restore" -d 'Restore a share from a backup, after checking it against the key'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from primes" -f -a "generate" -d 'Generate prime sets into this home (each takes seconds to minutes)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from primes" -f -a "import" -d 'Add prime sets from files (JSON, as in testdata/primes)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from primes" -f -a "list" -d 'Show how many prime sets are ready'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from presign" -f -a "plan" -d 'Write a presigning plan for a key and a signer set'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from presign" -f -a "run" -d 'Take part in a presigning session'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from presign" -f -a "list" -d 'List this home\'s unused presignatures'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from qr" -f -a "show" -d 'Show your round messages (or cards and plans) as one stream of QR codes (terminal, PNG, SVG or text)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from qr" -f -a "scan" -d 'Read a stream of QR codes (images, folders of frames, ur: text) into a message folder (cards and plans too)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from refresh" -f -a "plan" -d 'Write a refresh plan for a key (all of its parties take part)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from refresh" -f -a "run" -d 'Take part in a refresh session'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from repair" -f -a "plan" -d 'Write a repair plan: who lost the share, who helps'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from repair" -f -a "run" -d 'Take part in a repair session (as a helper, or as the party being repaired)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from reshare" -f -a "plan" -d 'Write a reshare plan: who deals, who holds the key afterwards, the new threshold'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from reshare" -f -a "run" -d 'Take part in a reshare session'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "list" -d 'List unfinished sessions: kind, label, age, and what each waits for'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "abandon" -d 'End an unfinished session for good and destroy its secret state (nonces, seeds)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "token" -d 'Create, list and revoke API tokens'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "cluster" -d 'Write a cluster file'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "log" -d 'Print the audit log'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify" -d 'Check the chain, its latest signed checkpoint and an anchor (exit 1 on any break)'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "head" -d 'Sign the current head with this party\'s identity and print it, for a worksheet'
complete -c mpc -n "__fish_mpc_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "reshare" -d 'A 2-of-3 → 3-of-5 reshare (and FROST keygen and refresh), in process and end to end'
