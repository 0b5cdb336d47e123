package faults

import (
	"net"
	"syscall"
)

// quickAck makes the kernel acknowledge what c has received now rather
// than after the delayed-ACK timer (40 ms on Linux); setting TCP_QUICKACK
// sends a pending ACK at once. Best effort: a failure only costs time.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
