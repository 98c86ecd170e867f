using k8s;
using k8s.Models;

namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// One Kubernetes Indexed Job per stage: a pod per rank, the rank from JOB_COMPLETION_INDEX, every pod mounting the
/// volume claim that holds the work directory, the cache and the output. Kubernetes has no dependency between Jobs, so
/// <see cref="SubmitAsync"/> creates a stage's Job only once the previous one has succeeded (kubectl users do the same
/// with `kubectl apply -f STAGE.yaml` and `kubectl wait --for=condition=complete job/NAME`, stage after stage).
/// </summary>
public static class KubernetesExecutor
{
    public sealed record Settings(string Image, string? VolumeClaim, string MountPath, string Namespace = "default");

    public static IReadOnlyList<(DataStage Stage, string Path, V1Job Job)> Manifests(StagePlan plan, Settings s)
    {
        var dir = Path.Combine(plan.WorkDir, "kubernetes");
        // Job names must be unique in a namespace and at most 63 characters; the work directory tells builds apart.
        var build = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(plan.WorkDir)))[..10];
        return plan.Stages.Select(stage =>
        {
            int ranks = plan.Ranks(stage);
            var container = new V1Container
            {
                Name = "codelm",
                Image = s.Image,
                Command = [.. plan.StageCommand(stage)],
                WorkingDir = s.MountPath,
                Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(plan.JobsPerRank.ToString()) } },
                VolumeMounts = s.VolumeClaim == null ? null : [new V1VolumeMount { Name = "data", MountPath = s.MountPath }],
            };
            var job = new V1Job
            {
                ApiVersion = "batch/v1",
                Kind = "Job",
                Metadata = new V1ObjectMeta { Name = $"codelm-data-{stage.Name()}-{build}", NamespaceProperty = s.Namespace, Labels = new Dictionary<string, string> { ["app"] = "codelm-data", ["codelm/build"] = build } },
                Spec = new V1JobSpec
                {
                    CompletionMode = "Indexed",
                    Completions = ranks,
                    Parallelism = ranks,
                    BackoffLimit = 2 * ranks,
                    Template = new V1PodTemplateSpec
                    {
                        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "codelm-data" } },
                        Spec = new V1PodSpec
                        {
                            RestartPolicy = "Never",
                            Containers = [container],
                            Volumes = s.VolumeClaim == null ? null : [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = s.VolumeClaim } }],
                        },
                    },
                },
            };
            return (stage, Path.Combine(dir, stage.Name() + ".yaml"), job);
        }).ToList();
    }

    /// <summary>Writes every stage's manifest; returns their paths.</summary>
    public static IReadOnlyList<string> Write(StagePlan plan, Settings s)
    {
        var written = new List<string>();
        foreach (var (_, path, job) in Manifests(plan, s))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Common.AtomicFile.WriteAllText(path, KubernetesYaml.Serialize(job));
            written.Add(path);
        }
        return written;
    }

    /// <summary>Creates the Jobs through the cluster's API (the kubeconfig or the in-cluster account), one stage after another.</summary>
    public static async Task SubmitAsync(StagePlan plan, Settings s, Action<string>? log, CancellationToken ct)
    {
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildDefaultConfig());
        foreach (var (stage, _, job) in Manifests(plan, s))
        {
            await client.CreateNamespacedJobAsync(job, s.Namespace, cancellationToken: ct);
            log?.Invoke($"{stage.Name()}: job {job.Metadata.Name} created");
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
                var status = (await client.ReadNamespacedJobStatusAsync(job.Metadata.Name, s.Namespace, cancellationToken: ct)).Status;
                if ((status?.Succeeded ?? 0) >= job.Spec.Completions) break;
                if (status?.Conditions?.Any(c => c.Type == "Failed" && c.Status == "True") == true)
                    throw new StageFailedException(stage, -1, $"Kubernetes job {job.Metadata.Name} failed; see `kubectl logs job/{job.Metadata.Name}`");
            }
        }
    }
}
