package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryName is the ONNX Runtime shared library the engine loads.
const LibraryName = "libonnxruntime.so.1"

// LibraryEnv names the environment variable that points at the library.
const LibraryEnv = "ONNXRUNTIME_LIB"

// LibraryDir is the folder the set-up step fetches the library into,
// relative to the repository root.
const LibraryDir = "third_party/onnxruntime"

// BuildLibraryDir may be set at link time (-ldflags -X) to the absolute
// folder holding the library, so a binary built by `make` finds it from
// anywhere.
var BuildLibraryDir string

// FindLibrary returns the ONNX Runtime library to load, looking in order at
// explicit (a --ort-lib flag), $ONNXRUNTIME_LIB, the executable's folder,
// its lib/ subfolder and ../lib (an installed /usr/local/bin + /usr/local/lib
// layout), the build-time folder, and third_party/onnxruntime in the
// working directory or any parent. The error lists every place it looked.
func FindLibrary(explicit string) (string, error) {
	if explicit != "" {
		return existingFile(explicit, "--ort-lib")
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return existingFile(env, "$"+LibraryEnv)
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		candidates = append(candidates, filepath.Join(dir, LibraryName), filepath.Join(dir, "lib", LibraryName),
			filepath.Join(filepath.Dir(dir), "lib", LibraryName))
	}
	if BuildLibraryDir != "" {
		candidates = append(candidates, filepath.Join(BuildLibraryDir, LibraryName))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, LibraryDir, LibraryName))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("ONNX Runtime library %s not found (run `make ort`, or set --ort-lib or $%s); looked in: %s",
		LibraryName, LibraryEnv, strings.Join(candidates, ", "))
}

func existingFile(path, source string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("ONNX Runtime library from %s: %s does not exist", source, path)
	}
	if st.IsDir() {
		return "", fmt.Errorf("ONNX Runtime library from %s: %s is a folder, not %s", source, path, LibraryName)
	}
	return path, nil
}

var runtimeState struct {
	sync.Mutex
	path string
}

// InitRuntime loads the ONNX Runtime library once per process. Later calls
// are no-ops; asking for a different library after one is loaded is an error.
func InitRuntime(explicit string) error {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if ort.IsInitialized() {
		if explicit != "" && explicit != runtimeState.path {
			return fmt.Errorf("ONNX Runtime already loaded from %s; cannot switch to %s", runtimeState.path, explicit)
		}
		return nil
	}
	lib, err := FindLibrary(explicit)
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("ONNX Runtime at %s could not be started (this build needs version 1.24 or newer): %w", lib, err)
	}
	runtimeState.path = lib
	return nil
}

// RuntimeInfo says which ONNX Runtime library is loaded and its version.
func RuntimeInfo() (path, version string, err error) {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if !ort.IsInitialized() {
		return "", "", errors.New("ONNX Runtime is not loaded")
	}
	return runtimeState.path, ort.GetVersion(), nil
}
