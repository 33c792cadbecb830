package wschannel_test

import (
	"fmt"

	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

// The exit Status an exec session ends with, as the kubelet sends it on
// stream 3, and the exit code a client reads back from it.
func ExampleExitStatus() {
	msg := wschannel.AppendFrame(nil, wschannel.StreamError, wschannel.ExitStatus([]string{"sh", "-c", "exit 3"}, 3).Encode())
	f, _ := wschannel.DecodeFrame(msg)
	fmt.Printf("stream %d: %s\n", f.Stream, f.Data)
	st, _ := wschannel.DecodeStatus(f.Data)
	code, err := st.ExitCode()
	fmt.Println(code, err)
	// Output:
	// stream 3: {"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}
	// 3 <nil>
}
