{
  "targets": [
    {
      "target_name": "cos_v4_sha1",
      "sources": ["sha1.c", "allocator.c"],
      "cflags": ["-O2", "-Wno-deprecated-declarations"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wno-deprecated-declarations"] }
    }
  ]
}
