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
// Zero fields take the defaults above (GCM, PBKDF2). Every participant needs the same key.
type EncryptionOptions struct {
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

// E2EE controls the end-to-end encryption of a room connected WithEncryption.
type E2EE struct{ r *room }

// E2EE returns the room's encryption controls.
func (r *Room) E2EE() *E2EE { return &E2EE{r: r.room} }

func (e *E2EE) do(op string, set func(*pb.E2EeRequest)) (*pb.E2EeResponse, error) {
	req := &pb.E2EeRequest{RoomHandle: proto.Uint64(e.r.handle.ID())}
	set(req)
	return request[*pb.E2EeResponse](e.r, op, req)
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
	_, err := e.do("set shared key", func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_SetSharedKey{SetSharedKey: &pb.SetSharedKeyRequest{SharedKey: slices.Clone(key), KeyIndex: proto.Int32(int32(index))}}
	})
	return err
}

// RatchetSharedKey derives the next shared key at index and returns it.
func (e *E2EE) RatchetSharedKey(index int) ([]byte, error) {
	resp, err := e.do("ratchet shared key", func(r *pb.E2EeRequest) {
		r.Message = &pb.E2EeRequest_RatchetSharedKey{RatchetSharedKey: &pb.RatchetSharedKeyRequest{KeyIndex: proto.Int32(int32(index))}}
	})
	if err != nil {
		return nil, err
	}
	return resp.GetRatchetSharedKey().GetNewKey(), nil
}
