package livekit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// decode's switch names every room event kind of the pinned schema exactly once, the ones it
// does not surface included, so a schema bump that adds a kind shows up here.
func TestDecodeSwitchNamesEveryKind(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "dispatch.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]int{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "decode" {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if se, ok := e.(*ast.StarExpr); ok {
						if sel, ok := se.X.(*ast.SelectorExpr); ok {
							named[sel.Sel.Name]++
						}
					}
				}
			}
			return true
		})
	}
	kinds := roomEventWrappers()
	if len(kinds) == 0 {
		t.Fatal("no RoomEvent kinds found")
	}
	for _, k := range kinds {
		if named[k] != 1 {
			t.Errorf("decode names %s %d times, want once", k, named[k])
		}
		delete(named, k)
	}
	for k := range named {
		t.Errorf("decode names %s, which is not a RoomEvent kind", k)
	}
}

// roomEventWrappers lists the Go type names of RoomEvent's oneof cases (RoomEvent_Eos, ...).
func roomEventWrappers() []string {
	var out []string
	m := (&pb.RoomEvent{}).ProtoReflect()
	fields := m.Descriptor().Oneofs().ByName("message").Fields()
	for i := range fields.Len() {
		v := m.NewField(fields.Get(i))
		msg := m.New()
		msg.Set(fields.Get(i), v)
		ev := msg.Interface().(*pb.RoomEvent)
		out = append(out, reflect.TypeOf(ev.Message).Elem().Name())
	}
	return out
}
