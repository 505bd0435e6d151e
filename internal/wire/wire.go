// Package wire reads serialized protobuf messages in place, without decoding them: what the
// hot paths between the library's callback and Go need (an event's kind, a handle, an async
// id, a frame's fields), found without allocating.
package wire

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Number is the wire number of the field name of m's message type. It panics if there is no
// such field: a mismatch with the schema, found when the package using it initializes.
func Number(m proto.Message, name protoreflect.Name) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic("wire: " + string(m.ProtoReflect().Descriptor().FullName()) + " has no field " + string(name))
	}
	return fd.Number()
}

// Envelope splits a message made of exactly one length-delimited field (an FfiEvent, whose
// content is one member of its oneof) into that field's number and contents.
func Envelope(msg []byte) (protowire.Number, []byte, bool) {
	num, typ, n := protowire.ConsumeTag(msg)
	if n < 0 || typ != protowire.BytesType {
		return 0, nil, false
	}
	inner, m := protowire.ConsumeBytes(msg[n:])
	if m < 0 || n+m != len(msg) {
		return 0, nil, false
	}
	return num, inner, true
}

// Bytes returns the last occurrence of the length-delimited field num (a string, bytes or a
// nested message). ok is false if there is none or the message is malformed.
func Bytes(msg []byte, num protowire.Number) (b []byte, ok bool) {
	b, _, ok = last(msg, num, protowire.BytesType)
	return b, ok
}

// Varint returns the last occurrence of the varint field num, as the decoder would keep it.
// ok is false if there is none or the message is malformed.
func Varint(msg []byte, num protowire.Number) (v uint64, ok bool) {
	_, v, ok = last(msg, num, protowire.VarintType)
	return v, ok
}

func last(msg []byte, num protowire.Number, typ protowire.Type) (b []byte, v uint64, ok bool) {
	for len(msg) > 0 {
		n, t, k := protowire.ConsumeTag(msg)
		if k < 0 {
			return nil, 0, false
		}
		msg = msg[k:]
		m := 0
		switch {
		case n == num && t == typ && typ == protowire.BytesType:
			b, m = protowire.ConsumeBytes(msg)
			ok = m >= 0
		case n == num && t == typ && typ == protowire.VarintType:
			v, m = protowire.ConsumeVarint(msg)
			ok = m >= 0
		default:
			m = protowire.ConsumeFieldValue(n, t, msg)
		}
		if m < 0 {
			return nil, 0, false
		}
		msg = msg[m:]
	}
	return b, v, ok
}
