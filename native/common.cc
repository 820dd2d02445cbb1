#include "common.h"

#include <cerrno>
#include <cstring>

namespace herald {

std::string ErrnoName(int err) {
  switch (err) {
    case 512: return "ERESTARTSYS";
    case 524: return "ENOTSUPP";
    default: break;
  }
  const char* name = strerrorname_np(err);
  return name != nullptr ? std::string(name) : "E" + std::to_string(err);
}

Napi::Error MakeErrno(Napi::Env env, const std::string& op, int err, const std::string& detail,
                      const std::string& verifierLog) {
  std::string reason = err == 524 ? "Operation not supported by the kernel" : std::strerror(err);
  std::string message = op + ": " + (detail.empty() ? "" : detail + ": ") + reason + " (" + ErrnoName(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("errno", Napi::Number::New(env, err));
  obj.Set("code", Napi::String::New(env, ErrnoName(err)));
  obj.Set("op", Napi::String::New(env, op));
  if (!verifierLog.empty()) obj.Set("verifierLog", Napi::String::New(env, verifierLog));
  return error;
}

void ThrowErrno(Napi::Env env, const std::string& op, int err, const std::string& detail,
                const std::string& verifierLog) {
  MakeErrno(env, op, err, detail, verifierLog).ThrowAsJavaScriptException();
}

static void ThrowType(const Napi::CallbackInfo& info, size_t i, const char* what, const char* expected) {
  Napi::TypeError::New(info.Env(), std::string("argument ") + std::to_string(i) + " (" + what + ") must be " + expected)
      .ThrowAsJavaScriptException();
}

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* what, uint32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowType(info, i, what, "a number");
    return false;
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (v < 0 || v > 4294967295.0 || v != static_cast<double>(static_cast<uint32_t>(v))) {
    ThrowType(info, i, what, "an unsigned 32-bit integer");
    return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

bool ArgI32(const Napi::CallbackInfo& info, size_t i, const char* what, int32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowType(info, i, what, "a number");
    return false;
  }
  *out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* what, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    ThrowType(info, i, what, "a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what, Napi::Buffer<uint8_t>* out) {
  if (info.Length() <= i || !info[i].IsBuffer()) {
    ThrowType(info, i, what, "a Buffer");
    return false;
  }
  *out = info[i].As<Napi::Buffer<uint8_t>>();
  return true;
}

}  // namespace herald
