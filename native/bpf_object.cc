// Opening and loading BPF objects with libbpf, pinning non-internal maps under a bpffs directory so an
// existing pin of the same name is reused, and capturing libbpf's output (the verifier log) on failure.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/limits.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common.h"

namespace herald {
namespace {

// libbpf output is collected while a call that may fail runs on the JS thread, and dropped otherwise
// (unless HERALD_LIBBPF_DEBUG is set, which mirrors it to stderr).
std::string* g_capture = nullptr;
bool g_debug = false;

int PrintFn(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (g_capture == nullptr && !g_debug) return 0;
  char buf[4096];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(buf, sizeof(buf), fmt, copy);
  va_end(copy);
  if (n < 0) return 0;
  if (static_cast<size_t>(n) >= sizeof(buf)) {
    std::string big(static_cast<size_t>(n) + 1, '\0');
    vsnprintf(big.data(), big.size(), fmt, args);
    big.resize(static_cast<size_t>(n));
    if (g_capture != nullptr && level != LIBBPF_DEBUG) g_capture->append(big);
    if (g_debug) fputs(big.c_str(), stderr);
    return n;
  }
  if (g_capture != nullptr && level != LIBBPF_DEBUG) g_capture->append(buf);
  if (g_debug) fputs(buf, stderr);
  return n;
}

// The kernel's verifier log as libbpf prints it on a failed program load; empty when there is none.
std::string ExtractVerifierLog(const std::string& captured) {
  const std::string begin = "-- BEGIN PROG LOAD LOG --";
  const std::string end = "-- END PROG LOAD LOG --";
  size_t b = captured.find(begin);
  if (b == std::string::npos) return "";
  size_t start = captured.find('\n', b);
  start = start == std::string::npos ? b + begin.size() : start + 1;
  size_t e = captured.find(end, start);
  return captured.substr(start, e == std::string::npos ? std::string::npos : e - start);
}

// First line libbpf printed: the most specific reason (e.g. "couldn't reuse pinned map at ...").
std::string FirstLine(const std::string& captured) {
  size_t start = captured.find_first_not_of("\n ");
  if (start == std::string::npos) return "";
  size_t end = captured.find('\n', start);
  std::string line = captured.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (line.rfind("libbpf: ", 0) == 0) line = line.substr(8);
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

// Throws the load/open error with libbpf's own words in the message and its full output attached.
// libbpf's private codes (LIBBPF_ERRNO__*, >= 4000) are reported as EINVAL with libbpf's text.
void ThrowLibbpf(Napi::Env env, const std::string& op, int err, const std::string& path, const std::string& captured) {
  std::string detail = path;
  std::string first = FirstLine(captured);
  if (!first.empty()) detail += ": " + first;
  if (err >= 4000) {
    char buf[256];
    libbpf_strerror(err, buf, sizeof(buf));
    detail += std::string(" (") + buf + ")";
    err = EINVAL;
  }
  Napi::Error error = MakeErrno(env, op, err, detail, ExtractVerifierLog(captured));
  if (!captured.empty()) error.Value().Set("libbpfLog", captured);
  error.ThrowAsJavaScriptException();
}

struct ObjectHandle {
  bpf_object* obj = nullptr;
};

void FinalizeHandle(Napi::Env, ObjectHandle* h) {
  if (h->obj != nullptr) bpf_object__close(h->obj);
  delete h;
}

Napi::Object MapInfoObject(Napi::Env env, bpf_map* map) {
  Napi::Object o = Napi::Object::New(env);
  int fd = bpf_map__fd(map);
  enum bpf_map_type type = bpf_map__type(map);
  const char* typeName = libbpf_bpf_map_type_str(type);
  o.Set("name", bpf_map__name(map));
  o.Set("fd", fd);
  o.Set("typeId", static_cast<uint32_t>(type));
  o.Set("type", typeName != nullptr ? typeName : "unknown");
  o.Set("keySize", bpf_map__key_size(map));
  o.Set("valueSize", bpf_map__value_size(map));
  o.Set("maxEntries", bpf_map__max_entries(map));
  o.Set("internal", bpf_map__is_internal(map));
  const char* pin = bpf_map__pin_path(map);
  if (pin != nullptr) o.Set("pinPath", pin);
  bpf_map_info info = {};
  __u32 len = sizeof(info);
  o.Set("id", fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0);
  return o;
}

Napi::Object ProgInfoObject(Napi::Env env, bpf_program* prog) {
  Napi::Object o = Napi::Object::New(env);
  int fd = bpf_program__fd(prog);
  o.Set("name", bpf_program__name(prog));
  o.Set("section", bpf_program__section_name(prog));
  o.Set("fd", fd);
  o.Set("typeId", static_cast<uint32_t>(bpf_program__type(prog)));
  bpf_prog_info info = {};
  __u32 len = sizeof(info);
  o.Set("id", fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0);
  return o;
}

// objectOpen(path, pinDir | undefined) -> { handle, maps: MapInfo[], programs: ProgInfo[] }
Napi::Value ObjectOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  std::string pinDir;
  bool pin = info.Length() > 1 && info[1].IsString();
  if (pin) pinDir = info[1].As<Napi::String>().Utf8Value();

  std::string captured;
  g_capture = &captured;
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  int err = obj == nullptr ? errno : 0;
  if (obj == nullptr) {
    g_capture = nullptr;
    ThrowLibbpf(env, "bpf_object__open_file", err != 0 ? err : EINVAL, path, captured);
    return env.Undefined();
  }
  bpf_map* map;
  if (pin) {
    bpf_object__for_each_map(map, obj) {
      if (bpf_map__is_internal(map)) continue;  // .rodata/.data/.bss/.kconfig cannot be pinned
      std::string p = pinDir + "/" + bpf_map__name(map);
      int r = bpf_map__set_pin_path(map, p.c_str());
      if (r != 0) {
        g_capture = nullptr;
        bpf_object__close(obj);
        ThrowErrno(env, "bpf_map__set_pin_path", -r, p);
        return env.Undefined();
      }
    }
  }
  // The verifier gives up with EAGAIN when a signal is pending, and a profiler (node --cpu-prof) sends
  // SIGPROF every millisecond: signals wait until the load is done.
  sigset_t all_signals, previous_mask;
  sigfillset(&all_signals);
  pthread_sigmask(SIG_BLOCK, &all_signals, &previous_mask);
  int r = bpf_object__load(obj);
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  g_capture = nullptr;
  if (r != 0) {
    bpf_object__close(obj);
    ThrowLibbpf(env, "bpf_object__load", -r, path, captured);
    return env.Undefined();
  }

  auto* handle = new ObjectHandle{obj};
  Napi::Object result = Napi::Object::New(env);
  result.Set("handle", Napi::External<ObjectHandle>::New(env, handle, FinalizeHandle));
  Napi::Array maps = Napi::Array::New(env);
  uint32_t i = 0;
  bpf_object__for_each_map(map, obj) maps.Set(i++, MapInfoObject(env, map));
  result.Set("maps", maps);
  Napi::Array progs = Napi::Array::New(env);
  i = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) progs.Set(i++, ProgInfoObject(env, prog));
  result.Set("programs", progs);
  return result;
}

// objectClose(handle): closes the object and every map/program fd it owns; idempotent.
Napi::Value ObjectClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) {
    Napi::TypeError::New(env, "objectClose: expected an object handle").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ObjectHandle* h = info[0].As<Napi::External<ObjectHandle>>().Data();
  if (h->obj != nullptr) {
    bpf_object__close(h->obj);
    h->obj = nullptr;
  }
  return env.Undefined();
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) {
    ThrowErrno(info.Env(), "libbpf_num_possible_cpus", -n);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void InitBpfObject(Napi::Env env, Napi::Object exports) {
  const char* dbg = getenv("HERALD_LIBBPF_DEBUG");
  g_debug = dbg != nullptr && dbg[0] != '\0' && dbg[0] != '0';
  libbpf_set_print(PrintFn);
  exports.Set("objectOpen", Napi::Function::New(env, ObjectOpen, "objectOpen"));
  exports.Set("objectClose", Napi::Function::New(env, ObjectClose, "objectClose"));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus, "numPossibleCpus"));
}

}  // namespace herald
