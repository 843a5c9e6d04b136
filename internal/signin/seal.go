package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/crossbill/crossbill"
)

// secrets are what a started sign-in must not show to a reader of the
// database: the nonce and the PKCE verifier.
type secrets struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
}

// sealKey derives the key from the state, which the database holds only
// hashed (under another prefix): the row alone cannot be opened.
func sealKey(state string) cipher.AEAD {
	k := sha256.Sum256([]byte("crossbill pending login key\x00" + state))
	b, _ := aes.NewCipher(k[:]) // a 32-byte key cannot fail
	g, _ := cipher.NewGCM(b)
	return g
}

func seal(state string, s secrets) (string, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "sign in", "%w", err)
	}
	g := sealKey(state)
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "sign in", "reading random bytes: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(g.Seal(nonce, nonce, plain, nil)), nil
}

func unseal(state, sealed string) (secrets, error) {
	bad := refused("this sign-in's record cannot be read: start again from the sign-in page")
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	g := sealKey(state)
	if err != nil || len(raw) < g.NonceSize() {
		return secrets{}, bad
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], nil)
	if err != nil {
		return secrets{}, bad
	}
	var s secrets
	if err := json.Unmarshal(plain, &s); err != nil {
		return secrets{}, bad
	}
	return s, nil
}
