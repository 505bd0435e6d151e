package livekit

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Every KeyProviderOptions field but the key is proto2-required: the options must marshal.
func TestEncryptionOptionsFillRequiredFields(t *testing.T) {
	o := newConfig([]ConnectOption{WithEncryption(EncryptionOptions{SharedKey: []byte("k")}), WithMaxDataStreamBytes(1234)}).roomOptions()
	if _, err := proto.Marshal(&pb.ConnectRequest{Url: proto.String("u"), Token: proto.String("t"), Options: o}); err != nil {
		t.Fatal(err)
	}
	kp := o.GetEncryption().GetKeyProviderOptions()
	if string(kp.GetRatchetSalt()) != DefaultRatchetSalt || kp.GetRatchetWindowSize() != 16 || kp.GetFailureTolerance() != -1 ||
		kp.GetKeyRingSize() != 16 || kp.GetKeyDerivationFunction() != pb.KeyDerivationFunction_PBKDF2 ||
		o.GetEncryption().GetEncryptionType() != pb.EncryptionType_GCM || string(kp.GetSharedKey()) != "k" {
		t.Fatalf("%v", o.GetEncryption())
	}
	//lint:ignore SA1019 checking that the deprecated field stays unset
	if o.GetDataStream().GetMaxPayloadByteLength() != 1234 || o.E2Ee != nil {
		t.Fatalf("%v", o)
	}
	if o := newConfig(nil).roomOptions(); o.Encryption != nil || o.DataStream != nil {
		t.Fatal("options set without being asked for")
	}
}

func TestOtherSDKsJoinedIntoRoomOptions(t *testing.T) {
	o := newConfig([]ConnectOption{WithOtherSDKs("agents-go:0.1.0", " ", ""), WithOtherSDKs(" x:1 ")}).roomOptions()
	if got := o.GetOtherSdks(); got != "agents-go:0.1.0,x:1" {
		t.Errorf("other_sdks %q, want %q", got, "agents-go:0.1.0,x:1")
	}
	if o := newConfig(nil).roomOptions(); o.OtherSdks != nil {
		t.Errorf("other_sdks set without the option: %q", o.GetOtherSdks())
	}
}
