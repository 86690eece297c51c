package org.triggerbot.testsupport;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private certificate authority made in the test, for TLS tests: {@link #create} makes a CA, {@link #issue} a
 * server certificate for the names given (subject alternative names: DNS names and IP addresses), and the two
 * writers produce the PKCS12 files a server ({@link #writeKeyStore}) and a client ({@link #writeTrustStore}) load.
 *
 * <p>Keys are EC P-256 (generated in milliseconds), signatures SHA256withECDSA, through the JDK's own providers;
 * Bouncy Castle only builds the certificates. Certificates are valid from an hour ago to a day from now, so clock
 * differences between processes do not matter.
 */
public final class TestPki {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String SIGNATURE = "SHA256withECDSA";

  private final KeyPair keyPair;
  private final X509Certificate certificate;

  /** A server's key and certificate, with the chain up to (and including) its CA. */
  public record Issued(KeyPair keyPair, X509Certificate certificate, X509Certificate ca) {
  }

  private TestPki(KeyPair keyPair, X509Certificate certificate) {
    this.keyPair = keyPair;
    this.certificate = certificate;
  }

  /** A new self-signed CA named {@code CN=<commonName>}. */
  public static TestPki create(String commonName) {
    try {
      KeyPair pair = newKeyPair();
      X500Name name = new X500Name("CN=" + commonName);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = builder(name, name, pair)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false,
              utils.createSubjectKeyIdentifier(pair.getPublic()));
      return new TestPki(pair, sign(builder, pair));
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot make test CA " + commonName, e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * A server certificate signed by this CA, for TLS server authentication, naming {@code dnsNames} and
   * {@code ipAddresses} (literals such as {@code 127.0.0.1}) as subject alternative names; the subject is
   * {@code CN=<first name>}. Clients verify the host name against the alternative names only.
   */
  public Issued issue(List<String> dnsNames, List<String> ipAddresses) {
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
    // Bouncy Castle parses the literal (and refuses anything else): nothing is resolved.
    ipAddresses.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a server certificate needs at least one name");
    }
    String first = dnsNames.isEmpty() ? ipAddresses.get(0) : dnsNames.get(0);
    try {
      KeyPair pair = newKeyPair();
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = builder(
          X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
          new X500Name("CN=" + first), pair)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
          .addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(names.toArray(GeneralName[]::new)))
          .addExtension(Extension.subjectKeyIdentifier, false,
              utils.createSubjectKeyIdentifier(pair.getPublic()))
          .addExtension(Extension.authorityKeyIdentifier, false,
              utils.createAuthorityKeyIdentifier(certificate));
      return new Issued(pair, sign(builder, keyPair), certificate);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + names, e);
    }
  }

  /** Writes {@code issued}'s key and chain as the only entry (alias {@code server}) of a new PKCS12 key store. */
  public static void writeKeyStore(Issued issued, Path file, String password) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("server", issued.keyPair().getPrivate(), password.toCharArray(),
          new Certificate[] {issued.certificate(), issued.ca()});
      write(store, file, password);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot write key store " + file, e);
    }
  }

  /**
   * Writes a PKCS12 trust store holding this CA's certificate as its only trusted entry, as
   * {@code -Djavax.net.ssl.trustStore=<file> -Djavax.net.ssl.trustStoreType=PKCS12} expects.
   */
  public void writeTrustStore(Path file, String password) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("ca", certificate);
      write(store, file, password);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot write trust store " + file, e);
    }
  }

  private static void write(KeyStore store, Path file, String password) throws IOException, GeneralSecurityException {
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, password.toCharArray());
    }
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair subjectKeys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject,
        subjectKeys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign with " + SIGNATURE, e);
    }
  }
}
