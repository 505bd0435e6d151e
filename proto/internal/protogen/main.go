// Command protogen turns the livekit-ffi schema (a FileDescriptorSet extracted from the pinned
// official artifact by extract.py) into the Go package github.com/livekit-ffi-go/sdk/proto.
//
// It drives protoc-gen-go's generator in process, so no protoc binary is needed. Run it through
// scripts/gen-proto.sh, which also checks that the committed code has not drifted.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

const importPath = "github.com/livekit-ffi-go/sdk/proto"

func main() {
	in := flag.String("in", "", "serialized FileDescriptorSet")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return fmt.Errorf("decode %s: %w", in, err)
	}
	files, err := topoSort(set.GetFile())
	if err != nil {
		return err
	}

	var names, params []string
	for _, f := range files {
		names = append(names, f.GetName())
		params = append(params, fmt.Sprintf("M%s=%s;proto", f.GetName(), importPath))
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: names,
		Parameter:      proto.String(strings.Join(params, ",")),
		ProtoFile:      files,
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
		path := filepath.Join(out, filepath.Base(f.GetName()))
		if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// topoSort orders files so that every file comes after its dependencies, as protogen requires.
func topoSort(files []*descriptorpb.FileDescriptorProto) ([]*descriptorpb.FileDescriptorProto, error) {
	byName := map[string]*descriptorpb.FileDescriptorProto{}
	for _, f := range files {
		byName[f.GetName()] = f
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)

	var sorted []*descriptorpb.FileDescriptorProto
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("import cycle at %s", n)
		case 2:
			return nil
		}
		f, ok := byName[n]
		if !ok {
			return fmt.Errorf("missing dependency %s", n)
		}
		state[n] = 1
		for _, d := range f.GetDependency() {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[n] = 2
		sorted = append(sorted, f)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return sorted, nil
}
