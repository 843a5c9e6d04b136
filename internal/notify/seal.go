package notify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/crossbill/crossbill"
)

// Channel secrets (a webhook's URL and signing secret, a Slack URL, an SMTP
// password) must be readable by the delivery job, so they cannot be hashed
// like API tokens: they are sealed with AES-256-GCM under a key kept out of
// the database, in the environment (KeyEnv, the same on every replica of a
// cluster) or else in a file of the data directory made on first use. A
// copy of the database alone opens none of them.

// KeyEnv holds the sealing key, 32 bytes in hex or base64.
const KeyEnv = "CROSSBILL_SECRET_KEY"

// KeyFile is the key's file in the data directory when KeyEnv is unset.
const KeyFile = "secret.key"

var keys sync.Map // data directory -> cipher.AEAD

func sealer(dir string) (cipher.AEAD, error) {
	const op = "channel secret"
	raw, err := loadKey(dir)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	b, err := aes.NewCipher(raw)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s must be 32 bytes (64 hex digits or base64): %w", KeyEnv, err)
	}
	return cipher.NewGCM(b)
}

func loadKey(dir string) ([]byte, error) {
	if v := strings.TrimSpace(os.Getenv(KeyEnv)); v != "" {
		if k, err := hex.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		if k, err := base64.StdEncoding.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		return nil, errors.New(KeyEnv + " must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)")
	}
	if k, ok := keys.Load(dir); ok {
		return k.([]byte), nil
	}
	path := filepath.Join(dir, KeyFile)
	k, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k = make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		// O_EXCL: of two processes making the key at once, one wins and
		// the other reads the winner's.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(k)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
		} else if errors.Is(err, fs.ErrExist) {
			k, err = os.ReadFile(path)
		}
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if len(k) != 32 {
		return nil, errors.New(path + " is not a 32-byte key: restore it from a backup, or remove it and add the channels again")
	}
	keys.Store(dir, k)
	return k, nil
}

// seal encrypts plain for the store, bound to the channel's tenant and ID
// (the additional data): a sealed value copied to another row does not open.
func seal(dir, bind string, plain []byte) (string, error) {
	g, err := sealer(dir)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "channel secret", "reading random bytes: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(g.Seal(nonce, nonce, plain, []byte(bind))), nil
}

func unseal(dir, bind, sealed string) ([]byte, error) {
	const op = "channel secret"
	g, err := sealer(dir)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < g.NonceSize() {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "the stored secret is damaged: remove the channel and add it again")
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(bind))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "the channel's secret does not open with this server's key (%s or %s in the data directory): every replica needs the same %s; or remove the channel and add it again", KeyEnv, KeyFile, KeyEnv)
	}
	return plain, nil
}
