// Command hello prints "hello"; build_test.go builds it with BuildBinary.
package main

import "fmt"

func main() { fmt.Println("hello") }
