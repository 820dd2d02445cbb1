{
  "targets": [
    {
      "target_name": "herald_bpf_objects",
      "type": "none",
      "actions": [
        {
          "action_name": "compile_xdp_program",
          "inputs": ["bpf/herald_xdp.bpf.c", "<!@(ls bpf/lib/*.h 2>/dev/null || true)", "scripts/build-bpf.sh"],
          "outputs": ["<(PRODUCT_DIR)/herald_xdp.bpf.o"],
          "action": ["bash", "scripts/build-bpf.sh", "bpf/herald_xdp.bpf.c", "<(PRODUCT_DIR)/herald_xdp.bpf.o"]
        },
        {
          "action_name": "compile_tx_errors_program",
          "inputs": ["bpf/herald_tx_errors.bpf.c", "bpf/lib/tx_errors.h", "scripts/build-bpf.sh"],
          "outputs": ["<(PRODUCT_DIR)/herald_tx_errors.bpf.o"],
          "action": ["bash", "scripts/build-bpf.sh", "bpf/herald_tx_errors.bpf.c", "<(PRODUCT_DIR)/herald_tx_errors.bpf.o"]
        }
      ]
    },
    {
      "target_name": "herald_test_bpf_objects",
      "type": "none",
      "actions": [
        {
          "action_name": "compile_test_fixtures",
          "inputs": ["test/bpf/fixtures/test_fixtures.bpf.c", "scripts/build-bpf.sh"],
          "outputs": ["<(PRODUCT_DIR)/test_fixtures.bpf.o"],
          "action": ["bash", "scripts/build-bpf.sh", "test/bpf/fixtures/test_fixtures.bpf.c", "<(PRODUCT_DIR)/test_fixtures.bpf.o"]
        },
        {
          "action_name": "compile_test_bad",
          "inputs": ["test/bpf/fixtures/test_bad.bpf.c", "scripts/build-bpf.sh"],
          "outputs": ["<(PRODUCT_DIR)/test_bad.bpf.o"],
          "action": ["bash", "scripts/build-bpf.sh", "test/bpf/fixtures/test_bad.bpf.c", "<(PRODUCT_DIR)/test_bad.bpf.o"]
        }
      ]
    },
    {
      "target_name": "herald_native",
      "dependencies": ["herald_bpf_objects", "herald_test_bpf_objects"],
      "sources": ["<!@(ls native/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
