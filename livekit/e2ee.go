package livekit

import (
	"slices"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// KeyDerivation is how frame keys are derived from a shared key.
type KeyDerivation int32

const (
	KeyDerivationPBKDF2 = KeyDerivation(pb.KeyDerivationFunction_PBKDF2)
	KeyDerivationHKDF   = KeyDerivation(pb.KeyDerivationFunction_HKDF)
)

// Defaults of EncryptionOptions (the same in every LiveKit SDK).
const (
	DefaultRatchetSalt       = "LKFrameEncryptionKey"
	DefaultRatchetWindowSize = 16
	DefaultFailureTolerance  = -1 // never give up on a participant's key
	DefaultKeyRingSize       = 16
)

// EncryptionOptions turn on end-to-end encryption of the room's media (WithEncryption).
// Zero fields take the defaults above (GCM, PBKDF2).
type EncryptionOptions struct {
	// SharedKey is the one key every participant uses. Empty: each participant has its own,
	// set with E2EE.SetKey (the local participant's to send, each publisher's to receive).
	SharedKey         []byte
	RatchetSalt       []byte
	RatchetWindowSize int
	FailureTolerance  int // 0: DefaultFailureTolerance
	KeyRingSize       int
	KeyDerivation     KeyDerivation
}

func (o EncryptionOptions) proto() *pb.E2EeOptions {
	salt := o.RatchetSalt
	if len(salt) == 0 {
		salt = []byte(DefaultRatchetSalt)
	}
	orDefault := func(v, d int) *int32 {
		if v == 0 {
			v = d
		}
		return proto.Int32(int32(v))
	}
	return &pb.E2EeOptions{
		EncryptionType: pb.EncryptionType_GCM.Enum(),
		KeyProviderOptions: &pb.KeyProviderOptions{
			SharedKey:             slices.Clone(o.SharedKey),
			RatchetSalt:           slices.Clone(salt),
			RatchetWindowSize:     orDefault(o.RatchetWindowSize, DefaultRatchetWindowSize),
			FailureTolerance:      orDefault(o.FailureTolerance, DefaultFailureTolerance),
			KeyRingSize:           orDefault(o.KeyRingSize, DefaultKeyRingSize),
			KeyDerivationFunction: pb.KeyDerivationFunction(o.KeyDerivation).Enum(),
		},
	}
}

// E2EE controls the end-to-end encryption of a room connected WithEncryption: the key ring
// (one shared key, or one key per participant when EncryptionOptions.SharedKey is empty) and
// the frame cryptors, one per encrypted track. Key indexes run from 0 to the key ring size
// minus one; others are refused here, since the engine does not check them.
type E2EE struct{ r *room }

// E2EE returns the room's encryption controls.
func (r *Room) E2EE() *E2EE { return &E2EE{r: r.room} }

func (e *E2EE) do(op string, set func(*pb.E2EeRequest)) (*pb.E2EeResponse, error) {
	if e.r.keyRing == 0 {
		return nil, &RequestError{Op: op, Err: ErrNotEncrypted}
	}
	req := &pb.E2EeRequest{RoomHandle: proto.Uint64(e.r.handle.ID())}
	set(req)
	return request[*pb.E2EeResponse](e.r, op, req)
}

// index checks a key index against the room's key ring.
func (e *E2EE) index(op string, i int) (*int32, error) {
	if ring := e.r.keyRing; ring != 0 && (i < 0 || i >= ring) {
		return nil, invalid(op, "key index %d outside the key ring (0..%d)", i, ring-1)
	}
	return proto.Int32(int32(i)), nil
}

// SetEnabled turns encryption and decryption of the room's media on or off.
func (e *E2EE) SetEnabled(on bool) error {
	_, err := e.do("set e2ee enabled", func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_ManagerSetEnabled{ManagerSetEnabled: &pb.E2EeManagerSetEnabledRequest{Enabled: proto.Bool(on)}}
	})
	return err
}

// SetSharedKey sets the shared key at index of the key ring.
func (e *E2EE) SetSharedKey(key []byte, index int) error {
	const op = "set shared key"
	i, err := e.index(op, index)
	if err != nil {
		return err
	}
	if len(key) == 0 {
		return invalid(op, "empty key")
	}
	_, err = e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_SetSharedKey{SetSharedKey: &pb.SetSharedKeyRequest{SharedKey: slices.Clone(key), KeyIndex: i}}
	})
	return err
}

// RatchetSharedKey derives the next shared key at index and returns it.
func (e *E2EE) RatchetSharedKey(index int) ([]byte, error) {
	const op = "ratchet shared key"
	i, err := e.index(op, index)
	if err != nil {
		return nil, err
	}
	resp, err := e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_RatchetSharedKey{RatchetSharedKey: &pb.RatchetSharedKeyRequest{KeyIndex: i}}
	})
	if err != nil {
		return nil, err
	}
	return resp.GetRatchetSharedKey().GetNewKey(), nil
}

// SharedKey returns the shared key at index, or nil if none is set there.
func (e *E2EE) SharedKey(index int) ([]byte, error) {
	const op = "get shared key"
	i, err := e.index(op, index)
	if err != nil {
		return nil, err
	}
	resp, err := e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_GetSharedKey{GetSharedKey: &pb.GetSharedKeyRequest{KeyIndex: i}}
	})
	if err != nil {
		return nil, err
	}
	return resp.GetGetSharedKey().GetKey(), nil
}

// SetKey sets the key of one participant (the local one for what it sends, a remote one for
// what it receives) at index of that participant's key ring. Per-participant keys apply when
// the room was connected without a SharedKey.
func (e *E2EE) SetKey(identity string, key []byte, index int) error {
	const op = "set participant key"
	i, err := e.index(op, index)
	if err != nil {
		return err
	}
	if identity == "" || len(key) == 0 {
		return invalid(op, "empty identity or key")
	}
	_, err = e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_SetKey{SetKey: &pb.SetKeyRequest{ParticipantIdentity: proto.String(identity), Key: slices.Clone(key), KeyIndex: i}}
	})
	return err
}

// RatchetKey derives the next key of a participant at index and returns it (nil if the
// participant has no key there).
func (e *E2EE) RatchetKey(identity string, index int) ([]byte, error) {
	const op = "ratchet participant key"
	i, err := e.index(op, index)
	if err != nil {
		return nil, err
	}
	resp, err := e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_RatchetKey{RatchetKey: &pb.RatchetKeyRequest{ParticipantIdentity: proto.String(identity), KeyIndex: i}}
	})
	if err != nil {
		return nil, err
	}
	return resp.GetRatchetKey().GetNewKey(), nil
}

// Key returns a participant's key at index, or nil if none is set there.
func (e *E2EE) Key(identity string, index int) ([]byte, error) {
	const op = "get participant key"
	i, err := e.index(op, index)
	if err != nil {
		return nil, err
	}
	resp, err := e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_GetKey{GetKey: &pb.GetKeyRequest{ParticipantIdentity: proto.String(identity), KeyIndex: i}}
	})
	if err != nil {
		return nil, err
	}
	return resp.GetGetKey().GetKey(), nil
}

// FrameCryptor is the encryption state of one track of one participant.
type FrameCryptor struct {
	ParticipantIdentity string
	TrackSID            string
	KeyIndex            int
	Enabled             bool
}

// FrameCryptors lists the room's frame cryptors: one per encrypted track, local and remote.
func (e *E2EE) FrameCryptors() ([]FrameCryptor, error) {
	resp, err := e.do("get frame cryptors", func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_ManagerGetFrameCryptors{ManagerGetFrameCryptors: &pb.E2EeManagerGetFrameCryptorsRequest{}}
	})
	if err != nil {
		return nil, err
	}
	var out []FrameCryptor
	for _, fc := range resp.GetManagerGetFrameCryptors().GetFrameCryptors() {
		out = append(out, FrameCryptor{ParticipantIdentity: fc.GetParticipantIdentity(), TrackSID: fc.GetTrackSid(),
			KeyIndex: int(fc.GetKeyIndex()), Enabled: fc.GetEnabled()})
	}
	return out, nil
}

// SetCryptorEnabled turns encryption (or decryption) of one participant's track on or off. A
// track without a cryptor is left alone.
func (e *E2EE) SetCryptorEnabled(identity, trackSID string, on bool) error {
	_, err := e.do("set frame cryptor enabled", func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_CryptorSetEnabled{CryptorSetEnabled: &pb.FrameCryptorSetEnabledRequest{
			ParticipantIdentity: proto.String(identity), TrackSid: proto.String(trackSID), Enabled: proto.Bool(on)}}
	})
	return err
}

// SetCryptorKeyIndex makes one participant's track use the key at index of the key ring.
func (e *E2EE) SetCryptorKeyIndex(identity, trackSID string, index int) error {
	const op = "set frame cryptor key index"
	i, err := e.index(op, index)
	if err != nil {
		return err
	}
	_, err = e.do(op, func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_CryptorSetKeyIndex{CryptorSetKeyIndex: &pb.FrameCryptorSetKeyIndexRequest{
			ParticipantIdentity: proto.String(identity), TrackSid: proto.String(trackSID), KeyIndex: i}}
	})
	return err
}
