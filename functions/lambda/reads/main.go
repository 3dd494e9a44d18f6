package main

import "cloudcredits/functions/lambda/boot"

func main() { boot.Serve(boot.Reads) }
