using CodeLm.DataPipeline.Clean;

namespace CodeLm.DataPipeline.Tests;

public class RedactorTests
{
    private static (string Text, int[] Counts) Run(string text)
    {
        var counts = new int[Redactor.KindCount];
        return (Redactor.Redact(text, counts), counts);
    }

    // Planted secrets, assembled at run time so this file holds no literal that scanners flag.
    public static readonly string Aws = "AKIA" + "IOSFODNN7EXAMPLE";
    public static readonly string GitHub = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
    public static readonly string Jwt = "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    public static readonly string Slack = "xoxb-" + "2400000000-8675309000-AbCdEfGh1234";
    public static readonly string PrivateKey = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA7yq3\nq9f2bX0=\n-----END RSA PRIVATE KEY-----";
    public static readonly string Password = "Zx8#qL2v!Rt9" + "mW4p";

    [Theory]
    [InlineData(RedactionKind.AwsAccessKey, "aws_access_key_id = {0}\n", "<KEY>")]
    [InlineData(RedactionKind.GitHubToken, "TOKEN: {1}\n", "<KEY>")]
    [InlineData(RedactionKind.Jwt, "auth = \"Bearer {2}\"\n", "<KEY>")]
    [InlineData(RedactionKind.SlackToken, "slack({3})\n", "<KEY>")]
    [InlineData(RedactionKind.PrivateKey, "key = \"\"\"\n{4}\n\"\"\"\n", "<KEY>")]
    [InlineData(RedactionKind.SecretAssignment, "db_password = \"{5}\"\n", "<KEY>")]
    [InlineData(RedactionKind.SecretAssignment, "const apiKey = '{5}';\n", "<KEY>")]
    [InlineData(RedactionKind.Email, "# Maintainer: Jane Doe <jane.doe@example.org>\n", "<EMAIL>")]
    [InlineData(RedactionKind.IpAddress, "server = connect(\"203.0.113.77\", 22)\n", "<IP_ADDRESS>")]
    [InlineData(RedactionKind.IpAddress, "dns = \"8.8.8.8\"\n", "<IP_ADDRESS>")]
    [InlineData(RedactionKind.IpAddress, "addr = \"2001:4860:4860::8888\"\n", "<IP_ADDRESS>")]
    public void RedactsEachKind(RedactionKind kind, string template, string placeholder)
    {
        var text = string.Format(template, Aws, GitHub, Jwt, Slack, PrivateKey, Password);
        var (result, counts) = Run(text);
        Assert.Contains(placeholder, result);
        Assert.Equal(1, counts[(int)kind]);
        Assert.Equal(1, counts.Sum());
        foreach (var secret in new[] { Aws, GitHub, Jwt, Slack, "MIIEowIBAAKCAQEA7yq3", Password, "jane.doe@example.org", "203.0.113.77", "8.8.8.8", "2001:4860:4860::8888" })
            Assert.DoesNotContain(secret, result);
    }

    [Theory]
    [InlineData("version = \"1.2.3\"\n")]
    [InlineData("[assembly: AssemblyVersion(\"4.0.0.0\")]\n")]
    [InlineData("__version__ = '2.31.0.1'\n")]
    [InlineData("release 1.2.3.4.5 is out\n")]
    [InlineData("commit = \"3fce3b5bb0236da2df6d99672afb8a719642eca7\"\n")]
    [InlineData("sha256 = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"\n")]
    [InlineData("cache_key = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"\n")]
    [InlineData("var id = Guid.Parse(\"123e4567-e89b-12d3-a456-426614174000\");\n")]
    [InlineData("host = \"127.0.0.1\"; lan = \"192.168.1.20\"; net = \"10.0.0.1\"; docker = \"172.17.0.2\"\n")]
    [InlineData("listen(\"::1\"); local = \"fe80::1ff:fe23:4567:890a\"; any = \"0.0.0.0\"\n")]
    [InlineData("std::vector<int> v; a::b::c(); ts = \"12:30:45\"; mac = \"00:1a:2b:3c:4d:5e\"\n")]
    [InlineData("@Override\npublic String toString() { return \"@types/node\"; }\n")]
    [InlineData("git clone git@github.com:owner/repo.git\n")]
    [InlineData("icon = \"logo@2x.png\"\n")]
    [InlineData("password = os.environ[\"DB_PASSWORD\"]\ntoken = get_token(user)\nkey = \"your-api-key-here\"\n")]
    [InlineData("monkey = \"Zx8qL2vRt9mW4pQ7\"\n")]
    [InlineData("if token == \"abc123def456ghi\":\n    pass\n")]
    [InlineData("var key = value.Item1;\n_dict[key] = value.Item2;\nlong longKey = 9876543210L;\n")]
    [InlineData("send({ token: progressToken2 });\nkey1 = \"some_cookie1\"\n")]
    [InlineData("partialResultToken: '3b1db4c9-e011-489e-a9d1-0653e64707c2'\n")]
    [InlineData("https://httpbin.org/get?key2=value2&key1=value1\n")]
    [InlineData("zip(split[::2], split[1::2])\n")]
    [InlineData("#r \"nuget: libtorch-cpu, 1.9.0.10\"\nls ~/.nuget/packages/libtorch-cpu/1.9.0.10/runtimes\n")]
    public void LookalikesSurvive(string text)
    {
        var (result, counts) = Run(text);
        Assert.Equal(text, result);
        Assert.Equal(0, counts.Sum());
    }

    [Fact]
    public void TextWithoutCandidatesIsReturnedAsIs()
    {
        var text = "def add(a, b):\n    return a + b\n";
        Assert.Same(text, Run(text).Text);
    }

    [Fact]
    public void OnTheSameSpanTheLowerKindWins()
    {
        // Both the secret-assignment and the email scanner find the quoted value: a tie that the sort order must settle.
        const string value = "jane.doe42@example.org";
        Assert.True(Redactor.LooksLikeSecret(value));
        var (result, counts) = Run($"password = \"{value}\"\n");
        Assert.Equal("password = \"<EMAIL>\"\n", result);
        Assert.Equal(1, counts[(int)RedactionKind.Email]);
        Assert.Equal(1, counts.Sum());
    }

    [Fact]
    public void CountsSeveralFindingsInOneFile()
    {
        var text = $"a = 'x@example.com'\nb = 'y@example.net'\nc = \"{Aws}\"\nd = \"198.51.100.4\"\n";
        var (result, counts) = Run(text);
        Assert.Equal(2, counts[(int)RedactionKind.Email]);
        Assert.Equal(1, counts[(int)RedactionKind.AwsAccessKey]);
        Assert.Equal(1, counts[(int)RedactionKind.IpAddress]);
        Assert.Equal("a = '<EMAIL>'\nb = '<EMAIL>'\nc = \"<KEY>\"\nd = \"<IP_ADDRESS>\"\n", result);
    }
}
