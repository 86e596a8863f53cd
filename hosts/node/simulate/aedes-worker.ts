/**
 * An aedes broker on a free loopback port, in a worker thread: the simulated devices and the broker then
 * run on two cores, and the main thread's heap figures hold the devices alone. The parent gets
 * { port } once it listens, posts "heap" to learn the broker thread's heap in use ({ heapUsed }), and "stop"
 * to close it.
 */
import { type AddressInfo, type Socket, createServer } from "node:net";
import v8 from "node:v8";
import { parentPort } from "node:worker_threads";

const port = parentPort;
if (port === null) throw new Error("aedes-worker.js runs as a worker thread");

const { Aedes } = await import("aedes");
const aedes = await Aedes.createBroker();
const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  // Without it Nagle's algorithm holds small writes back for a delayed ACK (about 40 ms).
  socket.setNoDelay(true);
  socket.once("close", () => sockets.delete(socket));
  // A link cut makes the socket fail mid-write; aedes reports it on the socket, and it is expected here.
  socket.on("error", () => {});
  aedes.handle(socket);
});
server.listen(0, "127.0.0.1", () => port.postMessage({ port: (server.address() as AddressInfo).port }));
port.on("message", (message: unknown) => {
  // This thread's own heap: what the broker holds, apart from the devices on the main thread.
  if (message === "heap") return port.postMessage({ heapUsed: v8.getHeapStatistics().used_heap_size });
  if (message !== "stop") return;
  aedes.close(() => {
    for (const socket of sockets) socket.destroy();
    server.close(() => port.postMessage({ stopped: true }));
  });
});
