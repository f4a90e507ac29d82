# One addon, one source file per feature (see README.md): a new feature adds its file to "sources" and one
# Register call in addon.cc.
{
  "targets": [{
    "target_name": "ingot_native",
    "sources": ["src/addon.cc", "src/errors.cc", "src/sockopt.cc", "src/packet.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    # Errors are thrown as pending JS exceptions by hand: no C++ exceptions cross the N-API boundary.
    "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
  }]
}
