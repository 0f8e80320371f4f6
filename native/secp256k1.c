// BIP-340 over the system libsecp256k1: verification for relay/verifier.ts, signing for relay/identity.ts.
//   verify(sig64, msg32, pubkey32) -> boolean
//   verifyBatch(items) -> Uint8Array: items is N*128 bytes of sig(64) | id(32) | pubkey(32), result[i] is 1 or 0.
//   sign(msg32, seckey32, aux32) -> Uint8Array(64): the relay signs its market outputs (pure JS took 4-5 ms each).
// Arguments are Uint8Arrays (Buffers included); a wrong length verifies false, a wrong type throws TypeError.
// Plain node_api.h, so no npm dependency. One context for the process, shared by worker threads (verifying and
// signing only read it).
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <node_api.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

// Illegal arguments make the library return 0 (not verified) instead of aborting the process.
static void ignore_illegal(const char *message, void *data) {
  (void)message;
  (void)data;
}

static void create_context(void) {
  ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
  if (ctx) secp256k1_context_set_illegal_callback(ctx, ignore_illegal, NULL);
}

static int verify_one(const uint8_t *sig, const uint8_t *msg, const uint8_t *pub) {
  secp256k1_xonly_pubkey xonly;
  if (!secp256k1_xonly_pubkey_parse(ctx, &xonly, pub)) return 0;
  return secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &xonly) == 1;
}

// The bytes of a Uint8Array argument; NULL (with a pending TypeError) when it is not one.
static const uint8_t *bytes_of(napi_env env, napi_value v, size_t *len, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return data ? (const uint8_t *)data : (const uint8_t *)"";
}

// The three Uint8Array arguments of verify and sign; 0 (with a pending TypeError) when they are not.
static int three_arrays(napi_env env, napi_callback_info info, const char *usage, const char *names[3],
                        const uint8_t *out[3], size_t lens[3]) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 3) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  for (int i = 0; i < 3; i++)
    if (!(out[i] = bytes_of(env, argv[i], &lens[i], names[i]))) return 0;
  return 1;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  static const char *names[3] = {"sig must be a Uint8Array", "msg must be a Uint8Array",
                                 "pubkey must be a Uint8Array"};
  const uint8_t *a[3];
  size_t n[3];
  if (!three_arrays(env, info, "verify(sig64, msg32, pubkey32) takes three Uint8Arrays", names, a, n)) return NULL;
  int ok = n[0] == 64 && n[1] == 32 && n[2] == 32 && verify_one(a[0], a[1], a[2]);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

static napi_value verify_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "verifyBatch(items) takes one Uint8Array of N*128 bytes");
    return NULL;
  }
  size_t len;
  const uint8_t *items = bytes_of(env, argv[0], &len, "items must be a Uint8Array");
  if (!items) return NULL;
  if (len % 128 != 0) {
    napi_throw_range_error(env, NULL, "items must be N*128 bytes: sig(64) | id(32) | pubkey(32)");
    return NULL;
  }
  size_t n = len / 128;
  void *out = NULL;
  napi_value buffer, result;
  if (napi_create_arraybuffer(env, n, &out, &buffer) != napi_ok) return NULL;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *it = items + i * 128;
    ((uint8_t *)out)[i] = (uint8_t)verify_one(it, it + 64, it + 96);
  }
  if (napi_create_typedarray(env, napi_uint8_array, n, buffer, 0, &result) != napi_ok) return NULL;
  return result;
}

static napi_value sign(napi_env env, napi_callback_info info) {
  static const char *names[3] = {"msg must be a Uint8Array", "seckey must be a Uint8Array",
                                 "aux must be a Uint8Array"};
  const uint8_t *a[3];
  size_t n[3];
  if (!three_arrays(env, info, "sign(msg32, seckey32, aux32) takes three Uint8Arrays", names, a, n)) return NULL;
  const uint8_t *msg = a[0], *sk = a[1], *aux = a[2];
  size_t msg_len = n[0], sk_len = n[1], aux_len = n[2];
  secp256k1_keypair keypair;
  uint8_t sig[64];
  if (msg_len != 32 || sk_len != 32 || aux_len != 32 || !secp256k1_keypair_create(ctx, &keypair, sk) ||
      !secp256k1_schnorrsig_sign32(ctx, sig, msg, &keypair, aux)) {
    napi_throw_error(env, NULL, "sign: needs a 32-byte message, a valid 32-byte secret key and 32 bytes of aux");
    return NULL;
  }
  void *out = NULL;
  napi_value buffer, result;
  if (napi_create_arraybuffer(env, 64, &out, &buffer) != napi_ok) return NULL;
  for (int i = 0; i < 64; i++) ((uint8_t *)out)[i] = sig[i];
  if (napi_create_typedarray(env, napi_uint8_array, 64, buffer, 0, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  pthread_once(&ctx_once, create_context);
  if (!ctx) {
    napi_throw_error(env, NULL, "secp256k1_context_create failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"verify", NULL, verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyBatch", NULL, verify_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sign", NULL, sign, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}
