package ctl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// rawDoc is one document of an input file, converted to JSON.
type rawDoc struct {
	// Source is the file name ("stdin" for -).
	Source string
	// Index is the 1-based document number within the file.
	Index int
	// JSON is the document as JSON (nil for an empty document).
	JSON []byte
	// Err is a parse error for this document.
	Err error
}

// where renders the location used in every message: "pools.yaml document 3".
func where(source string, index, item int) string {
	s := fmt.Sprintf("%s document %d", source, index)
	if item > 0 {
		s += fmt.Sprintf(" item %d", item)
	}
	return s
}

// inputFiles expands -f: a file, "-" (stdin), or a directory whose *.yaml,
// *.yml and *.json files are read in name order (recursively with -R).
func inputFiles(path string, recursive bool) ([]string, error) {
	if path == "-" {
		return []string{"-"}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	sort.Strings(files)
	return files, nil
}

// readDocs splits one input into documents. A YAML syntax error is
// reported against the document it occurs in; later documents are still read.
func readDocs(source string, r io.Reader) ([]rawDoc, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []rawDoc
	for i := 1; ; i++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return docs, fmt.Errorf("%s: %w", source, err)
		}
		if len(bytes.TrimSpace(stripComments(chunk))) == 0 {
			i-- // blank separators and comment-only documents are not counted
			continue
		}
		d := rawDoc{Source: source, Index: i}
		j, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			d.Err = fmt.Errorf("invalid YAML: %v; check indentation and quoting", err)
		} else if string(j) != "null" {
			d.JSON = j
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// stripComments drops full-line YAML comments so comment-only documents can
// be recognised as empty.
func stripComments(b []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// loadDocs reads every document named by -f.
func loadDocs(path string, recursive bool, stdin io.Reader) ([]rawDoc, error) {
	files, err := inputFiles(path, recursive)
	if err != nil {
		return nil, err
	}
	var all []rawDoc
	for _, f := range files {
		var r io.Reader
		source := f
		if f == "-" {
			r, source = stdin, "stdin"
		} else {
			fh, err := os.Open(f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			defer fh.Close()
			r = fh
		}
		docs, err := readDocs(source, r)
		if err != nil {
			return nil, err
		}
		all = append(all, docs...)
	}
	return all, nil
}
