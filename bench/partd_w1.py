"""W1 on Python partd (Debian's python3-partd), for a same-run baseline. Prints one JSON line."""
import json, shutil, sys, tempfile, time
import partd

kind, K, V, R = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tmp = tempfile.mkdtemp(prefix='partd-py-')
path = tmp + '/store'
if kind == 'File':
    p = partd.File(path)
else:
    p = partd.Buffer(partd.Dict(), partd.File(path), available_memory=100e6)
data = {'k%d' % k: bytes([k % 251]) * V for k in range(K)}
t = time.perf_counter()
for _ in range(R):
    p.append(data)
append_s = time.perf_counter() - t
t = time.perf_counter()
values = p.get(list(data))
get_s = time.perf_counter() - t
ok = all(len(v) == R * V for v in values)
p.drop()
shutil.rmtree(tmp, ignore_errors=True)
print(json.dumps({'append_s': append_s, 'get_s': get_s, 'ok': ok}))
