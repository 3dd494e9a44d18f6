// Package jsontext reads and writes the JSON of core's wire forms without
// reflection: Parse reads one document strictly into a tree (objects keep
// their members in order, numbers stay decimal text), and the Append
// functions write strings and maps byte for byte as encoding/json writes
// them.
//
// It exists so that the code reading rate cards, price books and requests,
// and writing estimates and prices, is the same on the server and in the
// browser's WebAssembly, and so the browser's module need not link
// encoding/json and the reflection it runs on.
//
// Like all of core it is pure: it reads the bytes it is given and nothing
// else.
package jsontext
