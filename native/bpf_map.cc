// Map operations on a map fd: lookup/update/delete with Buffers, key iteration, batch dump (with a
// null result when the kernel lacks batch support for the map type), and pinned-map open/close.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace herald {
namespace {

// Key and value sizes as the kernel sees them (a per-CPU value is one 8-byte-aligned slot per possible
// CPU), so a wrong-sized Buffer from JS can never make the kernel read or write past it.
struct Geometry {
  uint32_t keySize;
  uint32_t valueLen;
  uint32_t maxEntries;
};

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool GetGeometry(Napi::Env env, const char* op, int fd, Geometry* g) {
  bpf_map_info mi = {};
  __u32 len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) {
    ThrowErrno(env, op, errno, "map fd " + std::to_string(fd));
    return false;
  }
  g->keySize = mi.key_size;
  g->valueLen = mi.value_size;
  g->maxEntries = mi.max_entries;
  if (IsPerCpu(mi.type)) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus < 0) {
      ThrowErrno(env, op, -cpus, "number of possible CPUs");
      return false;
    }
    g->valueLen = ((mi.value_size + 7) / 8) * 8 * static_cast<uint32_t>(cpus);
  }
  return true;
}

bool CheckSize(Napi::Env env, const char* op, const char* what, size_t got, uint32_t want) {
  if (got == want) return true;
  ThrowErrno(env, op, EINVAL, std::string(what) + " is " + std::to_string(got) + " bytes, the map needs " + std::to_string(want));
  return false;
}

bool IsUnsupported(int err) { return err == EINVAL || err == ENOTSUP || err == 524 /* ENOTSUPP */ || err == ENOSYS; }

// mapLookup(fd, key) -> Buffer | undefined (missing key); per-CPU maps give all CPUs' slots.
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> key;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "key", &key)) return env.Undefined();
  if (!GetGeometry(env, "bpf_map_lookup_elem", fd, &g) || !CheckSize(env, "bpf_map_lookup_elem", "key", key.Length(), g.keySize))
    return env.Undefined();
  std::vector<uint8_t> value(g.valueLen);
  if (bpf_map_lookup_elem(fd, key.Data(), value.data()) != 0) {
    int err = errno;
    if (err == ENOENT) return env.Undefined();
    ThrowErrno(env, "bpf_map_lookup_elem", err);
    return env.Undefined();
  }
  return Napi::Buffer<uint8_t>::Copy(env, value.data(), value.size());
}

// mapUpdate(fd, key, value, flags)
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> key, value;
  uint32_t flags;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "key", &key) || !ArgBuffer(info, 2, "value", &value) ||
      !ArgU32(info, 3, "flags", &flags))
    return env.Undefined();
  if (!GetGeometry(env, "bpf_map_update_elem", fd, &g) ||
      !CheckSize(env, "bpf_map_update_elem", "key", key.Length(), g.keySize) ||
      !CheckSize(env, "bpf_map_update_elem", "value", value.Length(), g.valueLen))
    return env.Undefined();
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) ThrowErrno(env, "bpf_map_update_elem", errno);
  return env.Undefined();
}

// mapDelete(fd, key) -> boolean (false when the key was absent)
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> key;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "key", &key)) return env.Undefined();
  if (!GetGeometry(env, "bpf_map_delete_elem", fd, &g) || !CheckSize(env, "bpf_map_delete_elem", "key", key.Length(), g.keySize))
    return env.Undefined();
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "bpf_map_delete_elem", err);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// mapUpdateBatch(fd, keys, values, flags) -> entries written: keys and values packed back to back (the
// map's key size and full value length each). One BPF_MAP_UPDATE_BATCH where the kernel supports it for
// the map type and BPF_ANY, else one update per entry; throws the error of the first failing entry.
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> keys, values;
  uint32_t flags;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "keys", &keys) || !ArgBuffer(info, 2, "values", &values) ||
      !ArgU32(info, 3, "flags", &flags))
    return env.Undefined();
  if (!GetGeometry(env, "bpf_map_update_batch", fd, &g)) return env.Undefined();
  if (g.keySize == 0 || keys.Length() % g.keySize != 0) {
    ThrowErrno(env, "bpf_map_update_batch", EINVAL, "keys are " + std::to_string(keys.Length()) + " bytes, not a multiple of " + std::to_string(g.keySize));
    return env.Undefined();
  }
  size_t count = keys.Length() / g.keySize;
  if (!CheckSize(env, "bpf_map_update_batch", "values", values.Length(), static_cast<uint32_t>(count * g.valueLen)))
    return env.Undefined();
  if (count == 0) return Napi::Number::New(env, 0);
  // The kernel's batch update takes BPF_ANY only; with it a failed batch is safely redone entry by entry,
  // which also reports the failing entry's own error.
  if (flags == BPF_ANY) {
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = 0);
    __u32 n = static_cast<__u32>(count);
    if (bpf_map_update_batch(fd, keys.Data(), values.Data(), &n, &opts) == 0 && n == count)
      return Napi::Number::New(env, n);
  }
  for (size_t i = 0; i < count; i++) {
    if (bpf_map_update_elem(fd, keys.Data() + i * g.keySize, values.Data() + i * g.valueLen, flags) != 0) {
      ThrowErrno(env, "bpf_map_update_elem", errno, std::to_string(i) + " of " + std::to_string(count) + " written");
      return env.Undefined();
    }
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

// mapDeleteBatch(fd, keys) -> entries deleted (absent keys are skipped), keys packed back to back.
Napi::Value MapDeleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> keys;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "keys", &keys)) return env.Undefined();
  if (!GetGeometry(env, "bpf_map_delete_elem", fd, &g)) return env.Undefined();
  if (g.keySize == 0 || keys.Length() % g.keySize != 0) {
    ThrowErrno(env, "bpf_map_delete_elem", EINVAL, "keys are " + std::to_string(keys.Length()) + " bytes, not a multiple of " + std::to_string(g.keySize));
    return env.Undefined();
  }
  size_t count = keys.Length() / g.keySize;
  uint32_t deleted = 0;
  for (size_t i = 0; i < count; i++) {
    if (bpf_map_delete_elem(fd, keys.Data() + i * g.keySize) == 0) {
      deleted++;
    } else if (errno != ENOENT) {
      ThrowErrno(env, "bpf_map_delete_elem", errno, std::to_string(deleted) + " deleted before");
      return env.Undefined();
    }
  }
  return Napi::Number::New(env, deleted);
}

// Entries come back packed (one Buffer of count × size bytes) because creating one JS Buffer per key
// costs more than the syscalls; TypeScript slices them with subarray.
Napi::Object Packed(Napi::Env env, const std::vector<uint8_t>& bytes, uint32_t count, uint32_t size) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size()));
  o.Set("count", count);
  o.Set("size", size);
  return o;
}

// mapKeys(fd, limit) -> packed keys via BPF_MAP_GET_NEXT_KEY. `limit` bounds the walk: a hash walk
// restarts from the first key when the current one is deleted concurrently.
Napi::Value MapKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t limit;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "limit", &limit)) return env.Undefined();
  if (!GetGeometry(env, "bpf_map_get_next_key", fd, &g)) return env.Undefined();
  const uint32_t keySize = g.keySize;
  std::vector<uint8_t> all;
  std::vector<uint8_t> next(keySize);
  uint32_t n = 0;
  while (n < limit) {
    const void* cur = n == 0 ? nullptr : all.data() + static_cast<size_t>(n - 1) * keySize;
    if (bpf_map_get_next_key(fd, cur, next.data()) != 0) {
      int err = errno;
      if (err == ENOENT) break;
      ThrowErrno(env, "bpf_map_get_next_key", err);
      return env.Undefined();
    }
    all.insert(all.end(), next.begin(), next.end());
    n++;
  }
  return Packed(env, all, n, keySize);
}

// mapLookupBatch(fd, chunk) -> { keys, values } (packed) | null when the kernel does not support batch
// lookup for this map type.
Napi::Value MapLookupBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t chunk;
  Geometry g;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "chunk", &chunk)) return env.Undefined();
  if (!GetGeometry(env, "bpf_map_lookup_batch", fd, &g)) return env.Undefined();
  const uint32_t keySize = g.keySize, valueLen = g.valueLen;
  // More than max_entries per call is pointless; fewer is grown on ENOSPC (a bucket larger than a chunk).
  if (chunk > g.maxEntries) chunk = g.maxEntries;
  if (chunk == 0) chunk = 1;
  // The batch token is a kernel cursor (a u32 bucket/index for hash and array maps).
  size_t tokenSize = keySize < 8 ? 8 : keySize;
  std::vector<uint8_t> inBatch(tokenSize), outBatch(tokenSize);
  std::vector<uint8_t> keys, values;
  bool first = true;
  uint32_t total = 0;
  for (;;) {
    keys.resize(static_cast<size_t>(keySize) * (total + chunk));
    values.resize(static_cast<size_t>(valueLen) * (total + chunk));
    __u32 count = chunk;
    int r = bpf_map_lookup_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(),
                                 keys.data() + static_cast<size_t>(keySize) * total,
                                 values.data() + static_cast<size_t>(valueLen) * total, &count, nullptr);
    int err = r != 0 ? errno : 0;
    if (r != 0 && err == ENOSPC && count == 0 && chunk < g.maxEntries) {
      chunk *= 2;  // a hash bucket holds more entries than one chunk
      continue;
    }
    if (r != 0 && err != ENOENT) {
      if (first && IsUnsupported(err)) return env.Null();
      ThrowErrno(env, "bpf_map_lookup_batch", err);
      return env.Undefined();
    }
    total += count;
    if (r != 0) break;  // ENOENT: the dump reached the end
    inBatch.swap(outBatch);
    first = false;
  }
  keys.resize(static_cast<size_t>(keySize) * total);
  values.resize(static_cast<size_t>(valueLen) * total);
  Napi::Object result = Napi::Object::New(env);
  result.Set("keys", Packed(env, keys, total, keySize));
  result.Set("values", Packed(env, values, total, valueLen));
  return result;
}

Napi::Object MapInfoFromFd(Napi::Env env, int fd, bool* ok) {
  bpf_map_info mi = {};
  __u32 len = sizeof(mi);
  Napi::Object o = Napi::Object::New(env);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) {
    *ok = false;
    ThrowErrno(env, "bpf_obj_get_info_by_fd", errno);
    return o;
  }
  const char* typeName = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(mi.type));
  o.Set("name", mi.name);
  o.Set("fd", fd);
  o.Set("typeId", mi.type);
  o.Set("type", typeName != nullptr ? typeName : "unknown");
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("internal", false);
  o.Set("id", mi.id);
  *ok = true;
  return o;
}

// mapOpenPinned(path) -> MapInfo; the caller owns the returned fd (closeFd).
Napi::Value MapOpenPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    ThrowErrno(env, "bpf_obj_get", errno, path);
    return env.Undefined();
  }
  bool ok = false;
  Napi::Object o = MapInfoFromFd(env, fd, &ok);
  if (!ok) {
    close(fd);
    return env.Undefined();
  }
  o.Set("pinPath", path);
  return o;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ArgI32(info, 0, "fd", &fd)) return env.Undefined();
  if (fd >= 0 && close(fd) != 0) ThrowErrno(env, "close", errno);
  return env.Undefined();
}

}  // namespace

void InitBpfMap(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete, "mapDelete"));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch, "mapUpdateBatch"));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, MapDeleteBatch, "mapDeleteBatch"));
  exports.Set("mapKeys", Napi::Function::New(env, MapKeys, "mapKeys"));
  exports.Set("mapLookupBatch", Napi::Function::New(env, MapLookupBatch, "mapLookupBatch"));
  exports.Set("mapOpenPinned", Napi::Function::New(env, MapOpenPinned, "mapOpenPinned"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
}

}  // namespace herald
