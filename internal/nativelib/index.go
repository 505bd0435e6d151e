package nativelib

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// DefaultIndex is PyPI's simple repository API. LIVEKIT_FFI_INDEX or --index names a mirror
// (any PEP 503 or PEP 691 index, such as a company's PyPI proxy).
const DefaultIndex = "https://pypi.org/simple/"

// IndexURL returns the index to use: LIVEKIT_FFI_INDEX, else DefaultIndex.
func IndexURL(getenv func(string) string) string {
	if v := getenv("LIVEKIT_FFI_INDEX"); v != "" {
		return v
	}
	return DefaultIndex
}

// IndexFile is one file a project's index page lists.
type IndexFile struct {
	Name   string
	URL    string // absolute, without fragment
	SHA256 string // "" when the index does not say
}

// ListFiles reads the project's page of a simple repository index, in its JSON form (PEP 691)
// or its HTML form (PEP 503).
func ListFiles(ctx context.Context, client *http.Client, index, project string) ([]IndexFile, error) {
	base, err := url.Parse(strings.TrimSuffix(index, "/") + "/" + project + "/")
	if err != nil {
		return nil, fmt.Errorf("index %q: %w", index, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return nil, &NetworkError{URL: base.String(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("index %s: %s", base, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &NetworkError{URL: base.String(), Err: err}
	}
	final := resp.Request.URL // after redirects: relative links resolve against it
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/vnd.pypi.simple.v1+json") || ct == "application/json" {
		return parseJSONIndex(final, body)
	}
	return parseHTMLIndex(final, body), nil
}

func parseJSONIndex(base *url.URL, body []byte) ([]IndexFile, error) {
	var page struct {
		Files []struct {
			Filename string            `json:"filename"`
			URL      string            `json:"url"`
			Hashes   map[string]string `json:"hashes"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("index %s: %w", base, err)
	}
	var out []IndexFile
	for _, f := range page.Files {
		u, err := base.Parse(f.URL)
		if err != nil {
			continue
		}
		u.Fragment = ""
		out = append(out, IndexFile{Name: f.Filename, URL: u.String(), SHA256: f.Hashes["sha256"]})
	}
	return out, nil
}

var anchor = regexp.MustCompile(`(?is)<a\s[^>]*href\s*=\s*["']([^"']+)["'][^>]*>([^<]*)</a>`)

func parseHTMLIndex(base *url.URL, body []byte) []IndexFile {
	var out []IndexFile
	for _, m := range anchor.FindAllSubmatch(body, -1) {
		u, err := base.Parse(html.UnescapeString(string(m[1])))
		if err != nil {
			continue
		}
		sha := ""
		if v, ok := strings.CutPrefix(u.Fragment, "sha256="); ok {
			sha = v
		}
		u.Fragment = ""
		out = append(out, IndexFile{Name: strings.TrimSpace(html.UnescapeString(string(m[2]))), URL: u.String(), SHA256: sha})
	}
	return out
}
