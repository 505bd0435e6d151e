package livekit

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Every encoding, well-known or custom, survives the trip through the protocol's messages,
// and the well-known names map to the protocol's well-known values, not to custom strings.
func TestDataTrackEncodingsRoundTrip(t *testing.T) {
	for name, wk := range wellKnownFrameEncodings {
		m := name.proto()
		if m.GetWellKnown() != wk {
			t.Errorf("frame encoding %q sent as %v, want well-known %v", name, m, wk)
		}
		if got := frameEncodingFrom(m); got != name {
			t.Errorf("frame encoding %q came back as %q", name, got)
		}
	}
	if len(wellKnownFrameEncodings) != len(pb.DataTrackFrameEncoding_WellKnownFrameEncoding_name)-1 {
		t.Errorf("%d well-known frame encodings, the protocol has %d", len(wellKnownFrameEncodings), len(pb.DataTrackFrameEncoding_WellKnownFrameEncoding_name)-1)
	}
	if len(wellKnownSchemaEncodings) != len(pb.DataTrackSchemaEncoding_WellKnownSchemaEncoding_name)-1 {
		t.Errorf("%d well-known schema encodings, the protocol has %d", len(wellKnownSchemaEncodings), len(pb.DataTrackSchemaEncoding_WellKnownSchemaEncoding_name)-1)
	}
	custom := FrameEncoding("zstd-json")
	if m := custom.proto(); m.GetCustom() != "zstd-json" || frameEncodingFrom(m) != custom {
		t.Errorf("custom frame encoding sent as %v", m)
	}
	if FrameEncoding("").proto() != nil || frameEncodingFrom(nil) != "" {
		t.Error("no frame encoding is not sent as none")
	}
	for name, wk := range wellKnownSchemaEncodings {
		id := DataTrackSchemaID{Name: "s", Encoding: name}
		m := id.proto()
		if m.GetEncoding().GetWellKnown() != wk || schemaIDFrom(m) != id {
			t.Errorf("schema id %+v sent as %v", id, m)
		}
	}
	for _, id := range []DataTrackSchemaID{{Name: "s", Encoding: "my-idl"}, {Name: "s"}} {
		b, err := proto.Marshal(id.proto())
		if err != nil {
			t.Fatal(err)
		}
		var back pb.DataTrackSchemaId
		if err := proto.Unmarshal(b, &back); err != nil || schemaIDFrom(&back) != id {
			t.Errorf("schema id %+v came back as %+v (%v)", id, schemaIDFrom(&back), err)
		}
	}
	if (DataTrackSchemaID{}).proto() != nil || schemaIDFrom(nil) != (DataTrackSchemaID{}) {
		t.Error("no schema is not sent as none")
	}
}
