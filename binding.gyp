{
  "targets": [
    {
      "target_name": "hostscope_native",
      "sources": ["src/native/c/addon.c", "src/native/c/steps.c", "src/native/c/proc.c", "src/native/c/scan.c", "src/native/c/files.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    },
    {
      "target_name": "hostscope-monitor",
      "type": "executable",
      "sources": ["src/native/c/monitor.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    }
  ]
}
