// A 2-D convolution (forward, backward-data, backward-weights) for MindSpore's CPU backend, as the three
// functions of an AOT custom operator (mindspore.ops.Custom(func_type="aot")).
//
// Why: MindSpore 2.10's own CPU convolution hands oneDNN plain NCHW tensors, so oneDNN runs im2col + GEMM
// (and, above AVX2, a reference kernel).  Here oneDNN chooses the memory layouts itself (format_tag::any),
// which selects its direct blocked convolutions; tensors are reordered between MindSpore's NCHW and those
// layouts at the op's boundary.  The library links the libdnnl.so.3 that MindSpore ships (oneDNN 3.x,
// built with the THREADPOOL runtime), so a stream needs a thread pool: a small one is defined below.
//
// Every function takes MindSpore's AOT signature.  The last input is an int64[8] geometry
//   {stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, groups, same}
// where same=1 means TensorFlow/MindSpore "same" padding computed from the shapes (extra row/column at the
// bottom/right), and the pads given are ignored.  Weights are MindSpore's (out, in/groups, kh, kw).
//   ats_conv_forward:          (x, w, geometry) -> y
//   ats_conv_backward_data:    (dy, w, x, geometry) -> dx   (x is read for its shape only)
//   ats_conv_backward_weights: (dy, x, w, geometry) -> dw   (w is read for its shape only)
// A non-zero return tells MindSpore the op failed; the reason is printed to stderr first.
#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/dnnl/dnnl_threadpool.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

// ---------------------------------------------------------------- thread pool (THREADPOOL runtime)
class Pool : public dnnl::threadpool_interop::threadpool_iface {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    for (int i = 1; i < n_; ++i) workers_.emplace_back([this] { loop(); });
  }
  int get_num_threads() const override { return n_; }
  bool get_in_parallel() const override { return in_parallel_; }
  uint64_t get_flags() const override { return 0; }
  void parallel_for(int n, const std::function<void(int, int)> &fn) override {
    if (n <= 1 || n_ == 1 || in_parallel_) {
      for (int i = 0; i < n; ++i) fn(i, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      total_ = n;
      next_.store(0);
      pending_ = n_ - 1;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void work() {
    in_parallel_ = true;
    for (int i = next_.fetch_add(1); i < total_; i = next_.fetch_add(1)) (*fn_)(i, total_);
    in_parallel_ = false;
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int, int)> *fn_ = nullptr;
  int total_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int> next_{0};
  static thread_local bool in_parallel_;
};
thread_local bool Pool::in_parallel_ = false;

int g_threads = 0;  // 0: hardware concurrency; set once through ats_conv_set_threads before the first call
std::mutex g_mu;    // one convolution at a time: each already uses every thread of the pool

int threads() { return g_threads > 0 ? g_threads : std::max(1u, std::thread::hardware_concurrency()); }

bool threadpool_runtime() { return dnnl_version()->cpu_runtime == DNNL_RUNTIME_THREADPOOL; }

dnnl::engine &engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream &stream() {
  static dnnl::stream s = [] {
    if (!threadpool_runtime()) return dnnl::stream(engine());
    static Pool *pool = new Pool(threads());  // lives as long as the process, like the stream
    return dnnl::threadpool_interop::make_stream(engine(), pool);
  }();
  return s;
}

// ---------------------------------------------------------------- geometry
struct Geometry {
  memory::dims src, wei, dst, strides, dilates, pad_l, pad_r;
  int64_t groups;
};

int64_t same_pad_total(int64_t in, int64_t out, int64_t k, int64_t s) {
  return std::max<int64_t>((out - 1) * s + k - in, 0);
}

// x: (N, C, H, W), w: (O, C/g, KH, KW), y: (N, O, OH, OW), g: the int64[8] geometry.
bool geometry(const int64_t *x, const int64_t *w, const int64_t *y, const int64_t *g, Geometry &out) {
  int64_t sh = g[0], sw = g[1], groups = g[6];
  int64_t pt = g[2], pb = g[3], pl = g[4], pr = g[5];
  if (sh < 1 || sw < 1 || groups < 1 || x[1] != w[1] * groups || w[0] % groups != 0 || y[1] != w[0]) return false;
  if (g[7]) {
    int64_t th = same_pad_total(x[2], y[2], w[2], sh), tw = same_pad_total(x[3], y[3], w[3], sw);
    pt = th / 2, pb = th - pt, pl = tw / 2, pr = tw - pl;
  }
  if ((x[2] + pt + pb - w[2]) / sh + 1 != y[2] || (x[3] + pl + pr - w[3]) / sw + 1 != y[3]) return false;
  out.src = {x[0], x[1], x[2], x[3]};
  out.dst = {y[0], y[1], y[2], y[3]};
  out.wei = groups == 1 ? memory::dims{w[0], w[1], w[2], w[3]} : memory::dims{groups, w[0] / groups, w[1], w[2], w[3]};
  out.strides = {sh, sw};
  out.dilates = {0, 0};
  out.pad_l = {pt, pl};
  out.pad_r = {pb, pr};
  out.groups = groups;
  return true;
}

tag plain(const memory::dims &d) { return d.size() == 5 ? tag::goihw : tag::nchw; }

// ---------------------------------------------------------------- primitives, cached per shape
// A Port is one tensor of the primitive: MindSpore's plain buffer, and, when oneDNN asked for another
// layout, an internal buffer with the reorder between the two.
struct Port {
  memory::desc user, inner;
  memory buffer;
  dnnl::reorder to_inner, to_user;
  bool reordered = false;

  void init(const memory::dims &dims, const memory::desc &wanted, bool is_input) {
    user = memory::desc(dims, dt::f32, plain(dims));
    inner = wanted;
    reordered = user != wanted;
    if (!reordered) return;
    buffer = memory(wanted, engine());
    if (is_input)
      to_inner = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), user, engine(), inner));
    else
      to_user = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), user));
  }
  memory input(void *data) {
    memory u(user, engine(), data);
    if (!reordered) return u;
    to_inner.execute(stream(), u, buffer);
    return buffer;
  }
  memory output(void *data) { return reordered ? buffer : memory(user, engine(), data); }
  void finish_output(void *data) {
    if (!reordered) return;
    memory u(user, engine(), data);
    to_user.execute(stream(), buffer, u);
  }
};

enum Kind { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

struct Entry {
  dnnl::primitive primitive;
  Port a, b, c;  // the two inputs and the output, in the op's order
  int arg_a, arg_b, arg_c;
  memory scratchpad;
};

std::unordered_map<std::string, std::unique_ptr<Entry>> g_cache;

std::string key(Kind kind, const Geometry &g) {
  std::string k = std::to_string(kind);
  for (const memory::dims *d : {&g.src, &g.wei, &g.dst, &g.strides, &g.pad_l, &g.pad_r})
    for (auto v : *d) k += "," + std::to_string(v);
  return k;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

Entry *entry(Kind kind, const Geometry &g) {
  std::string k = key(kind, g);
  auto found = g_cache.find(k);
  if (found != g_cache.end()) return found->second.get();
  auto e = std::make_unique<Entry>();
  memory::desc src(g.src, dt::f32, tag::any), wei(g.wei, dt::f32, tag::any), dst(g.dst, dt::f32, tag::any);
  auto fwd = dnnl::convolution_forward::primitive_desc(
      engine(), dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei, dst, g.strides,
      g.dilates, g.pad_l, g.pad_r, kind == kForward ? user_scratchpad() : dnnl::primitive_attr());
  if (kind == kForward) {
    e->primitive = dnnl::convolution_forward(fwd);
    e->a.init(g.src, fwd.src_desc(), true);
    e->b.init(g.wei, fwd.weights_desc(), true);
    e->c.init(g.dst, fwd.dst_desc(), false);
    e->arg_a = DNNL_ARG_SRC, e->arg_b = DNNL_ARG_WEIGHTS, e->arg_c = DNNL_ARG_DST;
    e->scratchpad = memory(fwd.scratchpad_desc(), engine());
  } else if (kind == kBackwardData) {
    auto pd = dnnl::convolution_backward_data::primitive_desc(engine(), dnnl::algorithm::convolution_direct, src, wei,
                                                              dst, g.strides, g.dilates, g.pad_l, g.pad_r, fwd,
                                                              user_scratchpad());
    e->primitive = dnnl::convolution_backward_data(pd);
    e->a.init(g.dst, pd.diff_dst_desc(), true);
    e->b.init(g.wei, pd.weights_desc(), true);
    e->c.init(g.src, pd.diff_src_desc(), false);
    e->arg_a = DNNL_ARG_DIFF_DST, e->arg_b = DNNL_ARG_WEIGHTS, e->arg_c = DNNL_ARG_DIFF_SRC;
    e->scratchpad = memory(pd.scratchpad_desc(), engine());
  } else {
    auto pd = dnnl::convolution_backward_weights::primitive_desc(
        engine(), dnnl::algorithm::convolution_direct, src, wei, dst, g.strides, g.dilates, g.pad_l, g.pad_r, fwd,
        user_scratchpad());
    e->primitive = dnnl::convolution_backward_weights(pd);
    e->a.init(g.dst, pd.diff_dst_desc(), true);
    e->b.init(g.src, pd.src_desc(), true);
    e->c.init(g.wei, pd.diff_weights_desc(), false);
    e->arg_a = DNNL_ARG_DIFF_DST, e->arg_b = DNNL_ARG_SRC, e->arg_c = DNNL_ARG_DIFF_WEIGHTS;
    e->scratchpad = memory(pd.scratchpad_desc(), engine());
  }
  Entry *raw = e.get();
  g_cache.emplace(k, std::move(e));
  return raw;
}

int fail(const char *what, const char *detail) {
  fprintf(stderr, "ats_ms oneDNN convolution: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

int execute(Kind kind, const Geometry &g, void *in_a, void *in_b, void *out) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (threadpool_runtime()) dnnl_threadpool_interop_set_max_concurrency(threads());
  try {
    Entry *e = entry(kind, g);
    std::unordered_map<int, memory> args = {{e->arg_a, e->a.input(in_a)},
                                            {e->arg_b, e->b.input(in_b)},
                                            {e->arg_c, e->c.output(out)},
                                            {DNNL_ARG_SCRATCHPAD, e->scratchpad}};
    e->primitive.execute(stream(), args);
    e->c.finish_output(out);
    stream().wait();
  } catch (const dnnl::error &err) {
    return fail("oneDNN refused the convolution", err.what());
  }
  return 0;
}

bool float32(const char **dtypes, int n) {
  for (int i = 0; i < n; ++i)
    if (std::strcmp(dtypes[i], "float32") != 0 && std::strcmp(dtypes[i], "float") != 0) return false;
  return true;
}

}  // namespace

extern "C" {

// Forward: params = {x, w, geometry, y}.
int ats_conv_forward(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes, void *, void *) {
  Geometry g;
  if (nparam != 4 || ndims[0] != 4 || ndims[1] != 4 || ndims[3] != 4) return fail("expected (x, w, geometry) -> y", nullptr);
  if (!float32(dtypes, 2)) return fail("float32 tensors only", dtypes[0]);
  if (!geometry(shapes[0], shapes[1], shapes[3], static_cast<const int64_t *>(params[2]), g))
    return fail("shapes do not describe one convolution", nullptr);
  return execute(kForward, g, params[0], params[1], params[3]);
}

// Backward-data: params = {dy, w, x, geometry, dx}.
int ats_conv_backward_data(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes, void *,
                           void *) {
  Geometry g;
  if (nparam != 5 || ndims[0] != 4 || ndims[1] != 4 || ndims[4] != 4) return fail("expected (dy, w, x, geometry) -> dx", nullptr);
  if (!float32(dtypes, 2)) return fail("float32 tensors only", dtypes[0]);
  if (!geometry(shapes[4], shapes[1], shapes[0], static_cast<const int64_t *>(params[3]), g))
    return fail("shapes do not describe one convolution", nullptr);
  return execute(kBackwardData, g, params[0], params[1], params[4]);
}

// Backward-weights: params = {dy, x, w, geometry, dw}.
int ats_conv_backward_weights(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes, void *,
                              void *) {
  Geometry g;
  if (nparam != 5 || ndims[0] != 4 || ndims[1] != 4 || ndims[4] != 4) return fail("expected (dy, x, w, geometry) -> dw", nullptr);
  if (!float32(dtypes, 2)) return fail("float32 tensors only", dtypes[0]);
  if (!geometry(shapes[1], shapes[4], shapes[0], static_cast<const int64_t *>(params[3]), g))
    return fail("shapes do not describe one convolution", nullptr);
  return execute(kBackwardWeights, g, params[0], params[1], params[4]);
}

// Threads of the pool; takes effect only before the first convolution.  Returns the count in use.
int ats_conv_set_threads(int n) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (n > 0 && g_cache.empty()) g_threads = n;
  return threads();
}

// "oneDNN <major>.<minor>.<patch>, <runtime> runtime, <threads> threads" into buf.
int ats_conv_describe(char *buf, int size) {
  const dnnl_version_t *v = dnnl_version();
  const char *runtime = v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "threadpool"
                        : v->cpu_runtime == DNNL_RUNTIME_OMP      ? "OpenMP"
                        : v->cpu_runtime == DNNL_RUNTIME_SEQ      ? "sequential"
                                                                  : "other";
  return snprintf(buf, size, "oneDNN %d.%d.%d, %s runtime, %d threads", v->major, v->minor, v->patch, runtime,
                  threads());
}

// The implementation oneDNN picked for a forward convolution of these shapes (e.g. "jit:avx2"), for logs.
int ats_conv_implementation(const int64_t *x, const int64_t *w, const int64_t *y, const int64_t *geo, char *buf,
                            int size) {
  Geometry g;
  if (!geometry(x, w, y, geo, g)) return -1;
  try {
    memory::desc src(g.src, dt::f32, tag::any), wei(g.wei, dt::f32, tag::any), dst(g.dst, dt::f32, tag::any);
    auto pd = dnnl::convolution_forward::primitive_desc(engine(), dnnl::prop_kind::forward_training,
                                                        dnnl::algorithm::convolution_direct, src, wei, dst, g.strides,
                                                        g.dilates, g.pad_l, g.pad_r);
    return snprintf(buf, size, "%s", pd.impl_info_str());
  } catch (const dnnl::error &) {
    return -1;
  }
}

}  // extern "C"
