// Shared helpers of the datapath concerns: errno-carrying JS errors and argument readers.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace herald {

// Throws a JS Error whose message says what failed and where, with `errno`, `code` (e.g. 'EBUSY'),
// `op` and, when given, `verifierLog`. `err` is a positive errno value.
void ThrowErrno(Napi::Env env, const std::string& op, int err, const std::string& detail = "",
                const std::string& verifierLog = "");
// The same error, built but not thrown (to attach more properties first).
Napi::Error MakeErrno(Napi::Env env, const std::string& op, int err, const std::string& detail = "",
                      const std::string& verifierLog = "");

// Symbolic errno name ('EBUSY'), with the kernel-internal ones libbpf may return (ENOTSUPP 524).
std::string ErrnoName(int err);

// Argument readers: they throw a TypeError and return false when the argument has the wrong type.
bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* what, uint32_t* out);
bool ArgI32(const Napi::CallbackInfo& info, size_t i, const char* what, int32_t* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* what, std::string* out);
bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what, Napi::Buffer<uint8_t>* out);

// Per-concern registration, called from InitBpf / InitPacketSocket.
void InitBpfObject(Napi::Env env, Napi::Object exports);
void InitBpfMap(Napi::Env env, Napi::Object exports);
void InitXdpAttach(Napi::Env env, Napi::Object exports);
void InitProgTestRun(Napi::Env env, Napi::Object exports);
void InitTraceAttach(Napi::Env env, Napi::Object exports);
void InitNetdev(Napi::Env env, Napi::Object exports);
void InitFileLock(Napi::Env env, Napi::Object exports);

}  // namespace herald
