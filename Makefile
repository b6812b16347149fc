# Steel Inspector: `make run` starts the application on its bundled model,
# `make test` runs every test. Both install what they need first.

GO       ?= go
VERSION  ?= 0.1.0
BIN      := bin/steelinspect
ORT_LIB  := third_party/onnxruntime/libonnxruntime.so.1
LDFLAGS  := -X steelinspect/inference.BuildLibraryDir=$(CURDIR)/third_party/onnxruntime \
            -X steelinspect/cli.Version=$(VERSION)
PYTHON   := /usr/bin/python3
GOFILES  := $(shell git ls-files '*.go' 2>/dev/null)

.PHONY: all deps deps-test ort build run package test check vet lint fmt-check gotest training-test fuzz bench testmodels clean

all: build

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

ort: $(ORT_LIB)

$(ORT_LIB): scripts/fetch-onnxruntime.sh
	@scripts/fetch-onnxruntime.sh

build: deps ort
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .
	@cp -f $(ORT_LIB) bin/

## run: start the inspection window on the bundled model (ARGS="strip.jpg" to open files)
run: build
	./$(BIN) $(ARGS)

## package: Fyne's desktop package (binary with the model embedded, icon,
## .desktop file) plus ONNX Runtime and libjpeg-turbo's TurboJPEG in
## usr/local/lib: dist/steelinspect.tar.xz
FYNE_TOOLS ?= fyne.io/tools/cmd/fyne@v1.7.4
package: deps ort
	rm -rf dist && mkdir -p dist
	$(GO) run $(FYNE_TOOLS) package --target linux --release
	mkdir -p dist/pkg && tar -xJf "Steel Inspector.tar.xz" -C dist/pkg && rm -f "Steel Inspector.tar.xz"
	mkdir -p dist/pkg/steelinspect/usr/local/lib && cp $(ORT_LIB) dist/pkg/steelinspect/usr/local/lib/
	cp -L "$$(gcc -print-file-name=libturbojpeg.so.0)" dist/pkg/steelinspect/usr/local/lib/
	tar -cJf dist/steelinspect.tar.xz -C dist/pkg steelinspect && rm -rf dist/pkg
	@echo "dist/steelinspect.tar.xz: unpack, then 'sudo make -C steelinspect install' or copy usr/ to /"

## test: formatting, vet, the Go tests with the race detector (fuzz seeds
## included), the training pipeline's tests and the window smoke test
test: deps-test ort fmt-check vet lint gotest training-test

## lint: staticcheck, and gocyclo over 15 for non-test code (a function
## kept above it says why in its doc comment, with //gocyclo:ignore)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOCYCLO     ?= github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0
lint:
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(GOCYCLO) -over 15 -ignore '_test\.go$$' .

fmt-check:
	@out="$$(gofmt -l $(GOFILES))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 -timeout 30m ./...

training-test:
	@if [ -d training ] && ls training/test_*.py >/dev/null 2>&1; then \
	  $(PYTHON) -m unittest discover -s training -p 'test_*.py'; \
	else echo "no training tests"; fi

## fuzz: run each fuzz target for a while (FUZZTIME=1m)
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./inference -run '^$$' -fuzz FuzzDecodeAndTile -fuzztime $(FUZZTIME)

bench: ort
	$(GO) test ./inference -run '^$$' -bench . -benchmem

## testmodels: regenerate the tiny test models (needs python3-onnx)
testmodels:
	$(PYTHON) testdata/models/make_tiny_models.py

clean:
	rm -rf bin
