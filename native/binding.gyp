# The optional native verifier: BIP-340 verification by the system libsecp256k1 (Debian libsecp256k1-dev).
# Built by native/build.mjs at install, only when the library is present. Not at the package root on
# purpose: npm would then run node-gyp on every install and fail where the library is missing.
{
  "targets": [
    {
      "target_name": "agora_secp256k1",
      "sources": ["secp256k1.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lsecp256k1"]
    }
  ]
}
