// The 30 keys of the built-in catalog (core/data/catalog.json), in its
// order: shared by the azure_keyvault unit tests and the Key Vault benchmark.
#ifndef COFFER_TESTS_AZURE_KEYVAULT_CATALOG_KEYS_HPP
#define COFFER_TESTS_AZURE_KEYVAULT_CATALOG_KEYS_HPP

namespace kvtest {

inline constexpr const char *kCatalog[] = {"VCS.BitbucketProjectAdminPAT",
                                           "VCS.BitbucketAdminPassword",
                                           "VCS.GitlabGroupOwnerPAT",
                                           "VCS.GitlabAdminPAT",
                                           "VCS.GithubOrgOwnerPAT",
                                           "VCS.GithubAdminPAT",
                                           "VCS.GithubEnterpriseClientSecret",
                                           "VCS.AzureDevOpsOrgAdminPAT",
                                           "VCS.AzureAuthSecret",
                                           "BuildPackage.FileBasicAuthPassword",
                                           "BuildPackage.AwsSecretAccessKey",
                                           "RuntimeBaseImage.PrivateRegistryPassword",
                                           "RuntimeBaseImage.S3CompatibleAccessKey",
                                           "MDAStorage.FileBasicAuthPassword",
                                           "MDAStorage.AwsSecretAccessKey",
                                           "OCIRegistry.PrivateRegistryPassword",
                                           "OCIRegistry.S3CompatibleAccessKey",
                                           "BuildCluster.KubernetesConfigureToken",
                                           "CIAdmin.JenkinsConfigureAPIToken",
                                           "CIAdmin.JenkinsTriggerAuthToken",
                                           "CIAdmin.AzureOrgAdminPAT",
                                           "CIAdmin.AzureBlobStorageToken",
                                           "CIAdmin.AzureAwsS3SK",
                                           "ClusterManager.KubernetesApiToken",
                                           "ClusterSettings.KubernetesAdminPassword",
                                           "ClusterSettings.GrafanaAPIKey",
                                           "ClusterSettings.MDAAWSS3AccessKey",
                                           "ClusterSettings.OCIRegistryPassword",
                                           "Marketplace.ImportCDNPassword",
                                           "Email.SMTPPassword"};

}  // namespace kvtest

#endif  // COFFER_TESTS_AZURE_KEYVAULT_CATALOG_KEYS_HPP
