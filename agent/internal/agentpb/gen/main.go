// Command gen generates package agentpb, the Go types of LiveKit's agent worker protocol, from
// the .proto files of a livekit/protocol release (the module's protobufs/ directory, as the Go
// module cache holds it). Run it through scripts/gen-agent-proto.sh, which downloads the pinned
// release (agentpb/version.env) and checks the committed code for drift.
//
// It parses the schema with protocompile (no protoc needed) and keeps only what the worker and
// the dispatch API use: WorkerMessage and ServerMessage, the AgentDispatchService messages, and
// every type they reach. Two things change on the way, neither visible on the wire:
//
//   - the protobuf package becomes lkgo.livekit and the files move under lkgo/, so a program
//     that links github.com/livekit/protocol as well does not register the same names twice
//     (protobuf-go panics on that). Binary protobuf carries field numbers and Twirp JSON field
//     names, never the package, so the encoding is LiveKit's exactly;
//   - custom options (LiveKit's logger annotations), services and comments are dropped.
//
// It lives in a module of its own so that protocompile never enters the SDK's go.mod.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

const (
	importPath = "github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	oldPkg     = "livekit"
	newPkg     = "lkgo.livekit"
	fileDir    = "lkgo/"
)

// roots are the messages the SDK sends or receives; everything they reach is kept.
var (
	sources = []string{"livekit_agent.proto", "livekit_agent_dispatch.proto"}
	roots   = []string{
		"WorkerMessage", "ServerMessage",
		"CreateAgentDispatchRequest", "DeleteAgentDispatchRequest",
		"ListAgentDispatchRequest", "ListAgentDispatchResponse", "AgentDispatch",
	}
)

func main() {
	protoDir := flag.String("proto", "", "the protobufs/ directory of a livekit/protocol release")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *protoDir == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -proto DIR -out DIR")
		os.Exit(2)
	}
	if err := run(*protoDir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(protoDir, out string) error {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoDir}}),
	}
	compiled, err := c.Compile(context.Background(), sources...)
	if err != nil {
		return err
	}
	all := map[string]*descriptorpb.FileDescriptorProto{}
	var order []string
	var collect func(fd protoreflect.FileDescriptor)
	collect = func(fd protoreflect.FileDescriptor) {
		if _, ok := all[fd.Path()]; ok {
			return
		}
		imps := fd.Imports()
		for i := range imps.Len() {
			collect(imps.Get(i).FileDescriptor)
		}
		all[fd.Path()] = protodesc.ToFileDescriptorProto(fd)
		order = append(order, fd.Path())
	}
	for _, f := range compiled {
		collect(f)
	}

	files := prune(all, order)
	var names, params []string
	var protoFiles []*descriptorpb.FileDescriptorProto
	for _, f := range files {
		protoFiles = append(protoFiles, f)
		if strings.HasPrefix(f.GetName(), fileDir) {
			names = append(names, f.GetName())
			params = append(params, fmt.Sprintf("M%s=%s;agentpb", f.GetName(), importPath))
		}
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: names,
		Parameter:      proto.String(strings.Join(params, ",")),
		ProtoFile:      protoFiles,
	}
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		return err
	}
	for _, f := range plugin.Files {
		if f.Generate {
			internal_gengo.GenerateFile(plugin, f)
		}
	}
	plugin.SupportedFeatures = internal_gengo.SupportedFeatures
	resp := plugin.Response()
	if resp.Error != nil {
		return fmt.Errorf("generate: %s", resp.GetError())
	}
	for _, f := range resp.GetFile() {
		if err := os.WriteFile(filepath.Join(out, filepath.Base(f.GetName())), []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// prune returns the livekit files reduced to the types reachable from roots, renamed into
// newPkg, followed by the well-known files they import, each after its dependencies.
func prune(all map[string]*descriptorpb.FileDescriptorProto, order []string) []*descriptorpb.FileDescriptorProto {
	type top struct {
		file string
		msg  *descriptorpb.DescriptorProto // nil for an enum
	}
	// Every type's full name -> the top-level declaration that contains it.
	tops := map[string]top{}
	owner := map[string]string{} // full name -> top-level full name
	for _, name := range order {
		f := all[name]
		pkg := "." + f.GetPackage() + "."
		for _, m := range f.GetMessageType() {
			full := pkg + m.GetName()
			tops[full] = top{name, m}
			var walk func(prefix string, m *descriptorpb.DescriptorProto)
			walk = func(prefix string, m *descriptorpb.DescriptorProto) {
				owner[prefix], typeFiles[prefix] = full, name
				for _, n := range m.GetNestedType() {
					walk(prefix+"."+n.GetName(), n)
				}
				for _, e := range m.GetEnumType() {
					owner[prefix+"."+e.GetName()], typeFiles[prefix+"."+e.GetName()] = full, name
				}
			}
			walk(full, m)
		}
		for _, e := range f.GetEnumType() {
			full := pkg + e.GetName()
			tops[full] = top{name, nil}
			owner[full], typeFiles[full] = full, name
		}
	}

	kept := map[string]bool{}
	queue := []string{}
	for _, r := range roots {
		queue = append(queue, "."+oldPkg+"."+r)
	}
	for len(queue) > 0 {
		full := queue[0]
		queue = queue[1:]
		if kept[full] {
			continue
		}
		kept[full] = true
		t := tops[full]
		if t.msg == nil {
			continue
		}
		var walk func(m *descriptorpb.DescriptorProto)
		walk = func(m *descriptorpb.DescriptorProto) {
			for _, fld := range m.GetField() {
				if tn := fld.GetTypeName(); tn != "" {
					queue = append(queue, owner[tn])
				}
			}
			for _, n := range m.GetNestedType() {
				walk(n)
			}
		}
		walk(t.msg)
	}

	var outFiles []*descriptorpb.FileDescriptorProto
	wellKnown := map[string]bool{}
	for _, name := range order {
		f := all[name]
		if f.GetPackage() != oldPkg {
			continue
		}
		nf := &descriptorpb.FileDescriptorProto{
			Name:    proto.String(fileDir + name),
			Package: proto.String(newPkg),
			Syntax:  f.Syntax,
			Options: &descriptorpb.FileOptions{GoPackage: proto.String(importPath)},
		}
		deps := map[string]bool{}
		for _, m := range f.GetMessageType() {
			if kept["."+oldPkg+"."+m.GetName()] {
				nf.MessageType = append(nf.MessageType, cleanMessage(m, deps))
			}
		}
		for _, e := range f.GetEnumType() {
			if kept["."+oldPkg+"."+e.GetName()] {
				nf.EnumType = append(nf.EnumType, cleanEnum(e))
			}
		}
		if len(nf.MessageType)+len(nf.EnumType) == 0 {
			continue
		}
		for d := range deps {
			if d == name {
				continue
			}
			if all[d].GetPackage() == oldPkg {
				nf.Dependency = append(nf.Dependency, fileDir+d)
			} else {
				nf.Dependency = append(nf.Dependency, d)
				wellKnown[d] = true
			}
		}
		slices.Sort(nf.Dependency)
		outFiles = append(outFiles, nf)
	}
	// Well-known imports first: protogen needs every file after its dependencies, and ours
	// import each other in the order upstream declares them (models before agent before
	// dispatch), which is the order collect saw them in.
	var result []*descriptorpb.FileDescriptorProto
	for _, name := range order {
		if wellKnown[name] {
			result = append(result, all[name])
		}
	}
	return append(result, outFiles...)
}

// cleanMessage copies m without custom options and with type references renamed, recording in
// deps the files the references point into.
func cleanMessage(m *descriptorpb.DescriptorProto, deps map[string]bool) *descriptorpb.DescriptorProto {
	n := proto.Clone(m).(*descriptorpb.DescriptorProto)
	var walk func(m *descriptorpb.DescriptorProto)
	walk = func(m *descriptorpb.DescriptorProto) {
		if o := m.GetOptions(); o != nil {
			m.Options = &descriptorpb.MessageOptions{MapEntry: o.MapEntry, Deprecated: o.Deprecated}
		}
		for _, f := range m.GetField() {
			if o := f.GetOptions(); o != nil {
				f.Options = &descriptorpb.FieldOptions{Deprecated: o.Deprecated, Packed: o.Packed}
				if proto.Equal(f.Options, &descriptorpb.FieldOptions{}) {
					f.Options = nil
				}
			}
			if tn := f.GetTypeName(); tn != "" {
				deps[fileOf(tn)] = true
				if rest, ok := strings.CutPrefix(tn, "."+oldPkg+"."); ok {
					f.TypeName = proto.String("." + newPkg + "." + rest)
				}
			}
		}
		for _, o := range m.GetOneofDecl() {
			o.Options = nil
		}
		for _, e := range m.GetEnumType() {
			*e = *cleanEnum(e)
		}
		for _, nested := range m.GetNestedType() {
			walk(nested)
		}
	}
	walk(n)
	return n
}

func cleanEnum(e *descriptorpb.EnumDescriptorProto) *descriptorpb.EnumDescriptorProto {
	n := proto.Clone(e).(*descriptorpb.EnumDescriptorProto)
	if o := n.GetOptions(); o != nil {
		n.Options = &descriptorpb.EnumOptions{AllowAlias: o.AllowAlias, Deprecated: o.Deprecated}
	}
	for _, v := range n.GetValue() {
		if o := v.GetOptions(); o != nil {
			v.Options = &descriptorpb.EnumValueOptions{Deprecated: o.Deprecated}
		}
	}
	return n
}

// typeFiles maps a type's full name to the file declaring it; filled by prune's index.
var typeFiles = map[string]string{}

func fileOf(full string) string { return typeFiles[full] }
