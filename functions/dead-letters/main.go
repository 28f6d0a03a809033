// Command dead-letters is the dead-letters function of imageshare on Function Compute (runtime go1).
package main

import "imageshare/pkg/function"

func main() { function.Main(function.DeadLetters) }
