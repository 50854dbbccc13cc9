package ui

// Try it (issue 13): in a text project the rater types a prompt and reads the current policy's
// continuation, sampled on the device from the policy the hub's trainer published last
// (GET /api/v1/projects/{pid}/policy, core/lm's weights in float32). The policy is fetched
// when the project opens and again when a sync announces a newer version, and kept on the
// device, so Try it works offline. This file is both builds'; tryread.go (the full build) has
// the fetch, the storage and the sampling; the build for clip projects keeps a stored policy
// for the full build and shows no box (fullswitch.go).
//
// The box is not model assistance in the sense of the teacher's "hide model predictions":
// it judges neither continuation of the pair on screen and shows no reward, only what the
// policy being trained writes, as the classroom's "the policy now" does. It stays when the
// teacher hides predictions.
//
// The box is a few elements that the full build makes and updates itself (MountTryIt in
// tryread.go), as the player does its canvases, rather than a vugu component: a component is
// compiled into both builds, and cost the build for clip projects, which never shows the box,
// 14 KB of wasm (2.8 KB gzip).

// blobPolicy is the key of the policy kept on the device (storedPolicy) in StoreBlobs: its
// hundreds of kilobytes are read after the first pair shows, not with everything else.
const blobPolicy = "text_policy"

// storedPolicy is a downloaded policy as kept on the device, with its project, version and
// ETag. Weights are core/lm's codec (float32).
type storedPolicy struct {
	Project string `json:"project_id"`
	Version int    `json:"version"`
	ETag    string `json:"etag"`
	Weights []byte `json:"weights"`
}

// TryState is the Try-it box's state: the last continuation and what wrote it.
type TryState struct {
	Prompt  string  // the prompt as the policy read it: the typed text's last PromptTokens tokens
	Out     string  // the continuation
	Version int     // the policy version that wrote it
	MS      float64 // sampling time on this device, milliseconds
	Busy    bool    // sampling
	Err     string  // why the last try gave nothing
	Count   int     // continuations shown so far
}
