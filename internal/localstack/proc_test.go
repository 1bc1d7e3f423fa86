package localstack

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// The ports children listen on come from below the ephemeral range, which
// outbound connections draw from, and no two go out twice in a process,
// however many stacks start at once. A port in use is passed over.
func TestFreeAddr(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(minChildPort+int(nextChildPort.Load()+1)%(ephemeralLow()-minChildPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			addr, err := freeAddr()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[addr] {
				t.Errorf("%s handed out twice", addr)
			}
			seen[addr] = true
		})
	}
	wg.Wait()
	if seen[taken.Addr().String()] {
		t.Errorf("%s is in use, and was handed out", taken.Addr())
	}
	for addr := range seen {
		_, p, _ := net.SplitHostPort(addr)
		if port, _ := strconv.Atoi(p); port < minChildPort || port >= ephemeralLow() {
			t.Errorf("%s is outside [%d, %d)", addr, minChildPort, ephemeralLow())
		}
	}
}
