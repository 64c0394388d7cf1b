package main

import (
	"io"
	"net/http/httptest"
	"testing"
)

func TestVersionEndpoint(t *testing.T) {
	Version = "v1.2.3"
	server := httptest.NewServer(handler())
	defer server.Close()
	resp, err := server.Client().Get(server.URL + "/version")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "v1.2.3\n" {
		t.Fatalf("got %q", body)
	}
}
