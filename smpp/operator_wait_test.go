package smpp

import "testing"

func woken(w chan struct{}) bool {
	select {
	case <-w:
		return true
	default:
		return false
	}
}

// A freed slot wakes the oldest parked sender only; a sender that leaves the queue for
// another reason after being woken passes the wake-up on; one that leaves before being woken
// wakes nobody.
func TestFreedSlotWakesOneSender(t *testing.T) {
	o := &Operator{changed: make(chan struct{})}
	w1, w2, w3 := make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1)
	o.waiters = []chan struct{}{w1, w2, w3}

	o.slotFreed()
	if !woken(w1) || woken(w2) || woken(w3) {
		t.Fatal("a freed slot must wake exactly the oldest sender")
	}
	// w1 was woken but gives up (its ctx ended at the same moment): w2 gets the slot.
	o.unpark(w1)
	if !woken(w2) || woken(w3) {
		t.Fatal("a woken sender that gives up must pass the wake-up to the next")
	}
	// w3 leaves while still parked: nobody else is woken, the queue is empty.
	o.unpark(w3)
	if len(o.waiters) != 0 {
		t.Fatalf("%d senders still parked, want 0", len(o.waiters))
	}
	o.slotFreed() // nobody waits: nothing happens, nothing blocks
}

// While draining, a freed slot wakes everything (waitIdle watches the window count).
func TestFreedSlotWhileDrainingBroadcasts(t *testing.T) {
	ch := make(chan struct{})
	o := &Operator{changed: ch, stopped: true}
	o.slotFreed()
	select {
	case <-ch:
	default:
		t.Fatal("slotFreed while draining did not close changed")
	}
}
