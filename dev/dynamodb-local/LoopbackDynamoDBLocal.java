// DynamoDB Local on 127.0.0.1 only. Amazon's emulator has no option for the address it listens
// on and binds every network interface, which would open the local database to the network.
// This starts it exactly as its own main does, with the same command-line options, after setting
// the host of its Jetty connector. Compiled once by dev/local-services.ts (javac, from a JDK) into
// node_modules/.cache; without javac the emulator is started as shipped, and says so.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
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
