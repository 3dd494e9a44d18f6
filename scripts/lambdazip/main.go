// Command lambdazip packs a Lambda `bootstrap` binary into the zip that the
// provided.al2023 runtime expects (the file at the root, executable), and
// prints the sizes: lambdazip build/lambda/spending/bootstrap build/lambda/spending.zip
package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: lambdazip BOOTSTRAP ZIP")
		os.Exit(2)
	}
	if err := pack(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

func pack(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	zst, err := os.Stat(dst)
	if err != nil {
		return err
	}
	fmt.Printf("%-40s bootstrap %6.1f MiB  zip %5.1f MiB\n", dst, float64(st.Size())/(1<<20), float64(zst.Size())/(1<<20))
	return nil
}
