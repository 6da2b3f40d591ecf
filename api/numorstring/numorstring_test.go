package numorstring

import (
	"encoding/json"
	"testing"
)

func TestASNumber_DecodesPlainQuotedAndDotted(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ASNumber
		wantErr bool
	}{
		{`64512`, 64512, false},
		{`"64512"`, 64512, false},
		{`"1.10"`, 1<<16 + 10, false},
		{`"65536.1"`, 0, true},
		{`"abc"`, 0, true},
		{`4294967296`, 0, true},
	} {
		var a ASNumber
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && a != tc.want {
			t.Errorf("%s: got %d, want %d", tc.in, a, tc.want)
		}
		if err == nil {
			out, _ := json.Marshal(a)
			if string(out) != a.String() {
				t.Errorf("%s: encodes as %s, want plain number", tc.in, out)
			}
		}
	}
}

func TestPort_RoundTripsEveryForm(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		wantErr bool
	}{
		{`80`, `80`, false},
		{`"80"`, `80`, false},
		{`"8000:8080"`, `"8000:8080"`, false},
		{`"http"`, `"http"`, false},
		{`"9000:8000"`, ``, true},
		{`"70000"`, ``, true},
		{`"bad name!"`, ``, true},
		{`-1`, ``, true},
	} {
		var p Port
		err := json.Unmarshal([]byte(tc.in), &p)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		out, _ := json.Marshal(p)
		if string(out) != tc.out {
			t.Errorf("%s: encodes as %s, want %s", tc.in, out, tc.out)
		}
	}
}
