// DynamoDB Local on 127.0.0.1 only. Amazon's emulator has no option for the address it listens
// on and binds every network interface, which would open the local database to the network.
// This starts it exactly as its own main does, with the same command-line options, after setting
// the host of its Jetty connector. Compiled once by dev/local-services.ts (javac, from a JDK) into
// node_modules/.cache; without javac the emulator is started as shipped, and says so.
// It also ends when its standard input closes: the process that started it holds the other end,
// so a start or test run killed outright (kill -9) does not leave the emulator running.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    Thread parentWatch = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // nothing is ever written; read() returns -1 when the parent's end closes
        }
      } catch (java.io.IOException ignored) {
        // a broken pipe is a closed one
      }
      System.exit(0);
    }, "exit-with-parent");
    parentWatch.setDaemon(true);
    parentWatch.start();
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    for (Connector connector : jetty.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
  }
}
