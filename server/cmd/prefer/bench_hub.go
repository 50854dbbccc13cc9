package main

import (
	"io"

	"github.com/prefer-rlhf/prefer/server/loadgen"
)

func init() {
	registerBench("hub", func(stderr io.Writer) (any, error) { return loadgen.Run(stderr) })
}
