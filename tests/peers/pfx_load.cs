// Loads a PFX the way a .NET program does (X509Certificate2 with its password from $PW), under Mono: prints
// "loaded THUMBPRINT key=True|False" and exits 0, or "refused: WHY" and exits 1.
using System;
using System.Security.Cryptography.X509Certificates;

class PfxLoad {
    static int Main(string[] args) {
        try {
            var cert = new X509Certificate2(args[0], Environment.GetEnvironmentVariable("PW") ?? "",
                X509KeyStorageFlags.Exportable);
            Console.WriteLine("loaded " + cert.Thumbprint + " key=" + cert.HasPrivateKey);
            return 0;
        } catch (Exception e) {
            Console.WriteLine("refused: " + e.Message);
            return 1;
        }
    }
}
