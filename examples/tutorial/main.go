// Command hbaas-server is a small HTTP service whose version is set at build
// time with -ldflags "-X main.Version=...".
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

// Version is replaced by the build.
var Version = "dev"

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, Version)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	if *showVersion {
		fmt.Println(Version)
		os.Exit(0)
	}
	log.Printf("hbaas-server %s listening on %s", Version, *addr)
	log.Fatal(http.ListenAndServe(*addr, handler()))
}
