// Package apicheck holds tests about the module's public API as a whole: what the exported
// declarations of the user-facing packages may name.
package apicheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/livekit-ffi-go/sdk/"

// public are the packages applications import, relative to the repository root.
var public = []string{"agent", "ffi", "livekit", "livekit/media", "livekit/media/wav", "livekit/media/y4m", "tokensource"}

// exported walks the exported declarations of the package in dir (test files excluded) and
// calls fn with each one's name and every package it names (by import path).
func exported(t *testing.T, dir string, fn func(name string, named []string)) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", dir, err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		imports := map[string]string{} // local name -> import path
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		uses := func(nodes ...ast.Node) []string {
			var out []string
			for _, n := range nodes {
				if n == nil || (isNilNode(n)) {
					continue
				}
				ast.Inspect(n, func(n ast.Node) bool {
					if s, ok := n.(*ast.SelectorExpr); ok {
						if id, ok := s.X.(*ast.Ident); ok && imports[id.Name] != "" {
							out = append(out, imports[id.Name])
						}
					}
					return true
				})
			}
			return out
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				fn(d.Name.Name, uses(d.Type))
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							fn(s.Name.Name, uses(exportedParts(s.Type)...))
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								fn(n.Name, uses(s.Type))
							}
						}
					}
				}
			}
		}
	}
}

func isNilNode(n ast.Node) bool {
	e, ok := n.(ast.Expr)
	return ok && e == nil
}

func exportedRecv(fl *ast.FieldList) bool {
	e := fl.List[0].Type
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if ix, ok := e.(*ast.IndexExpr); ok {
		e = ix.X
	}
	id, ok := e.(*ast.Ident)
	return ok && id.IsExported()
}

// exportedParts is what of a type's definition a user sees: a struct's exported fields, an
// interface's exported methods, anything else whole.
func exportedParts(e ast.Expr) []ast.Node {
	var out []ast.Node
	switch e := e.(type) {
	case *ast.StructType:
		for _, f := range e.Fields.List {
			if len(f.Names) == 0 || f.Names[0].IsExported() {
				out = append(out, f.Type)
			}
		}
	case *ast.InterfaceType:
		for _, m := range e.Methods.List {
			if len(m.Names) == 0 || m.Names[0].IsExported() {
				out = append(out, m.Type)
			}
		}
	default:
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// The generated protocol package changes with every livekit-ffi version; no exported
// signature of a user-facing package may name it, so an upgrade is not an API change.
func TestNoPublicSignatureNamesTheProtocol(t *testing.T) {
	for _, dir := range public {
		exported(t, dir, func(name string, named []string) {
			for _, p := range named {
				if p == module+"proto" {
					t.Errorf("%s.%s names package proto in its signature", dir, name)
				}
			}
		})
	}
}

// Package ffi is the engine's small public face: loading, options, errors, version, memory
// trim and log levels. Its machinery is internal.
func TestFFIIsASmallFace(t *testing.T) {
	var names []string
	exported(t, "ffi", func(name string, named []string) {
		names = append(names, name)
		for _, p := range named {
			if strings.HasPrefix(p, module+"internal/") && !strings.HasSuffix(name, "Error") {
				t.Errorf("ffi.%s exposes %s", name, p)
			}
		}
	})
	sort.Strings(names)
	if len(names) > 20 {
		t.Errorf("ffi exports %d identifiers (functions, methods, types, values), want at most 20: %v", len(names), names)
	}
}
